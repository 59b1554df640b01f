package main

// Mount table: enabling a secrets engine runs the same sequence as Vault's
// mount.go (NewBackendV5 → Setup → Type → SpecialPaths → Initialize), mounts
// persist in storage so a restarted host remounts them, and each mount is
// wrapped so a dead plugin process is relaunched on the next request.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/rpc"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	log "github.com/hashicorp/go-hclog"
	"github.com/hashicorp/vault/sdk/helper/consts"
	"github.com/hashicorp/vault/sdk/logical"
	bplugin "github.com/hashicorp/vault/sdk/plugin"
)

const mountsKey = "core/mounts"

type mountEntry struct {
	Path          string                 `json:"path"` // with trailing "/"
	Type          string                 `json:"type"`
	Description   string                 `json:"description"`
	UUID          string                 `json:"uuid"`
	Accessor      string                 `json:"accessor"`
	Options       map[string]string      `json:"options"`
	Config        mountConfig            `json:"config"`
	PluginVersion string                 `json:"plugin_version"`
}

type mount struct {
	entry    mountEntry
	backend  *reloadingBackend
	view     logical.Storage
	inflight atomic.Bool // at most one rollback per mount, as in Vault
}

type mountTable struct {
	mu     sync.RWMutex
	mounts map[string]*mount
	store  logical.Storage
	sys    *sysView
	logger log.Logger
	// readOnly makes every mount's storage refuse writes (readonly.go, SIGUSR1).
	readOnly atomic.Bool
}

func newMountTable(store logical.Storage, sys *sysView, logger log.Logger) *mountTable {
	return &mountTable{mounts: map[string]*mount{}, store: store, sys: sys, logger: logger}
}

// match is the router's longest-prefix lookup; "kv" also finds mount "kv/".
func (t *mountTable) match(path string) (*mount, string) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	var best *mount
	for p, m := range t.mounts {
		if (strings.HasPrefix(path, p) || path+"/" == p) && (best == nil || len(p) > len(best.entry.Path)) {
			best = m
		}
	}
	if best == nil {
		return nil, ""
	}
	if path+"/" == best.entry.Path {
		return best, ""
	}
	return best, path[len(best.entry.Path):]
}

func (t *mountTable) get(path string) *mount {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.mounts[path]
}

func (t *mountTable) list() []*mount {
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := make([]*mount, 0, len(t.mounts))
	for _, m := range t.mounts {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].entry.Path < out[j].entry.Path })
	return out
}

var reservedMounts = []string{"sys/", "auth/", "identity/", "cubbyhole/"}

// enable validates and starts a new mount, then persists the table.
func (t *mountTable) enable(ctx context.Context, e mountEntry) error {
	if !strings.HasSuffix(e.Path, "/") {
		e.Path += "/"
	}
	if e.Path == "/" || strings.Contains(e.Path, "..") || strings.HasPrefix(e.Path, "/") {
		return fmt.Errorf("invalid mount path %q", e.Path)
	}
	for _, r := range reservedMounts {
		if strings.HasPrefix(e.Path, r) {
			return fmt.Errorf("cannot mount %q: reserved path", e.Path)
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for p := range t.mounts {
		if strings.HasPrefix(e.Path, p) || strings.HasPrefix(p, e.Path) {
			return fmt.Errorf("path is already in use at %s", p)
		}
	}
	e.UUID, e.Accessor = uuid(), "pki_"+randomID()[:8]
	m, err := t.start(ctx, e)
	if err != nil {
		return err
	}
	t.mounts[e.Path] = m
	return t.persistLocked(ctx)
}

// tune changes a mounted entry under the table lock and persists the table;
// change returns an error to leave the entry as it was.
func (t *mountTable) tune(ctx context.Context, path string, change func(*mountEntry) error) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	m := t.mounts[path]
	if m == nil {
		return fmt.Errorf("tune of path %q failed: no mount entry found", path)
	}
	e := m.entry
	if err := change(&e); err != nil {
		return err
	}
	old := m.entry
	m.entry = e
	if err := t.persistLocked(ctx); err != nil {
		m.entry = old
		return err
	}
	return nil
}

func (t *mountTable) start(ctx context.Context, e mountEntry) (*mount, error) {
	if ce, err := t.sys.cat.get(ctx, e.Type); err != nil || ce == nil {
		return nil, fmt.Errorf("plugin not found in the catalog: %s", e.Type)
	}
	view := t.mountView(e.UUID)
	cfg := map[string]string{}
	for k, v := range e.Options {
		cfg[k] = v
	}
	cfg["plugin_name"], cfg["plugin_type"], cfg["plugin_version"] = e.Type, consts.PluginTypeSecrets.String(), e.PluginVersion
	conf := &logical.BackendConfig{
		StorageView: view, Logger: t.logger.Named("secrets." + e.Type + "." + e.Accessor),
		System: t.sys, Config: cfg, BackendUUID: e.UUID,
	}
	rb := &reloadingBackend{conf: conf}
	if err := rb.load(ctx, view); err != nil {
		return nil, err
	}
	return &mount{entry: e, backend: rb, view: view}, nil
}

// disable follows Vault's unmount order: final rollback, Cleanup (which also
// stops the process), storage wiped, entry removed.
func (t *mountTable) disable(ctx context.Context, path string) error {
	if !strings.HasSuffix(path, "/") {
		path += "/"
	}
	t.mu.Lock()
	m := t.mounts[path]
	if m == nil {
		t.mu.Unlock()
		return nil // Vault answers 204 for a missing mount too
	}
	delete(t.mounts, path)
	err := t.persistLocked(ctx)
	t.mu.Unlock()
	t.rollback(ctx, m)
	m.backend.Cleanup(ctx)
	if cerr := logical.ClearView(ctx, m.view); cerr != nil && err == nil {
		err = cerr
	}
	return err
}

func (t *mountTable) persistLocked(ctx context.Context) error {
	entries := make([]mountEntry, 0, len(t.mounts))
	for _, m := range t.mounts {
		entries = append(entries, m.entry)
	}
	buf, _ := json.Marshal(entries)
	return t.store.Put(ctx, &logical.StorageEntry{Key: mountsKey, Value: buf})
}

// restore remounts the persisted table (host restart with -data). A mount
// whose plugin fails to start is skipped, as Vault does at unseal.
func (t *mountTable) restore(ctx context.Context) error {
	raw, err := t.store.Get(ctx, mountsKey)
	if err != nil || raw == nil {
		return err
	}
	var entries []mountEntry
	if err := json.Unmarshal(raw.Value, &entries); err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, e := range entries {
		m, err := t.start(ctx, e)
		if err != nil {
			t.logger.Error("skipping plugin-based mount entry", "path", e.Path, "error", err)
			m = &mount{entry: e, view: t.mountView(e.UUID)}
		}
		t.mounts[e.Path] = m
	}
	return nil
}

// rollback sends the periodic rollback request (Vault's rollback.go).
func (t *mountTable) rollback(ctx context.Context, m *mount) {
	if m.backend == nil || !m.inflight.CompareAndSwap(false, true) {
		return
	}
	defer m.inflight.Store(false)
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	req := &logical.Request{
		ID: uuid(), Operation: logical.RollbackOperation, Path: "", Storage: m.view,
		MountPoint: m.entry.Path, MountType: m.entry.Type, MountAccessor: m.entry.Accessor,
	}
	resp, err := m.backend.HandleRequest(ctx, req)
	if err == nil && resp != nil && resp.IsError() {
		err = resp.Error()
	}
	if err != nil && !errors.Is(err, logical.ErrUnsupportedOperation) &&
		!strings.Contains(err.Error(), logical.ErrReadOnly.Error()) {
		t.logger.Error("error rolling back", "path", m.entry.Path, "error", err)
	}
}

func (t *mountTable) rollbackLoop(ctx context.Context, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			for _, m := range t.list() {
				go t.rollback(ctx, m)
			}
		}
	}
}

// shutdown cleans every mount up (Cleanup + process stop) without wiping storage.
func (t *mountTable) shutdown(ctx context.Context) {
	for _, m := range t.list() {
		if m.backend != nil {
			m.backend.Cleanup(ctx)
		}
	}
}

// reloadingBackend mirrors Vault's builtin/plugin/v5 wrapper: when a call
// fails because the plugin process is gone, relaunch it (Cleanup, new client,
// Setup, Initialize) and retry the call once.
type reloadingBackend struct {
	mu     sync.RWMutex
	b      logical.Backend
	conf   *logical.BackendConfig
	canary uint64
}

func (r *reloadingBackend) load(ctx context.Context, storage logical.Storage) error {
	c := r.conf.Config
	b, err := bplugin.NewBackendV5(ctx, c["plugin_name"], consts.PluginTypeSecrets, c["plugin_version"], r.conf.System, r.conf)
	if err != nil {
		return err
	}
	if err := b.Setup(ctx, r.conf); err != nil {
		b.Cleanup(ctx)
		return err
	}
	if b.Type() != logical.TypeLogical {
		b.Cleanup(ctx)
		return fmt.Errorf("cannot mount %q of type %q as a logical backend", c["plugin_name"], b.Type())
	}
	_ = b.SpecialPaths() // read at mount like Vault's router; the dev host does no ACLs
	if err := b.Initialize(ctx, &logical.InitializationRequest{Storage: storage}); err != nil {
		b.Cleanup(ctx)
		return err
	}
	r.b = b
	return nil
}

func isShutdown(err error) bool {
	return err != nil && (err == bplugin.ErrPluginShutdown || err.Error() == rpc.ErrShutdown.Error())
}

func (r *reloadingBackend) relaunch(ctx context.Context, canary uint64, storage logical.Storage) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.canary != canary {
		return nil // another request already relaunched it
	}
	r.conf.Logger.Info("plugin process gone; relaunching")
	r.b.Cleanup(context.WithValue(ctx, bplugin.ContextKeyPluginReload, "reload"))
	if err := r.load(ctx, storage); err != nil {
		return err
	}
	r.canary++
	return nil
}

func (r *reloadingBackend) HandleRequest(ctx context.Context, req *logical.Request) (*logical.Response, error) {
	r.mu.RLock()
	canary := r.canary
	resp, err := r.b.HandleRequest(ctx, req)
	r.mu.RUnlock()
	if !isShutdown(err) {
		return resp, err
	}
	if err := r.relaunch(ctx, canary, req.Storage); err != nil {
		return nil, err
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.b.HandleRequest(ctx, req)
}

func (r *reloadingBackend) HandleExistenceCheck(ctx context.Context, req *logical.Request) (bool, bool, error) {
	r.mu.RLock()
	canary := r.canary
	found, exists, err := r.b.HandleExistenceCheck(ctx, req)
	r.mu.RUnlock()
	if !isShutdown(err) {
		return found, exists, err
	}
	if err := r.relaunch(ctx, canary, req.Storage); err != nil {
		return false, false, err
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.b.HandleExistenceCheck(ctx, req)
}

func (r *reloadingBackend) Cleanup(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.b.Cleanup(ctx)
}

func (r *reloadingBackend) pluginVersion() string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if v, ok := r.b.(logical.PluginVersioner); ok {
		return v.PluginVersion().Version
	}
	return ""
}
