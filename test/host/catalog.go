package main

// Plugin catalog and process management: the host-side half of Vault's
// vault/plugincatalog, reduced to what a dev host needs (secret plugins, one
// registered version per name). Launching goes through the SDK's
// pluginutil.PluginRunner.RunConfig, so the plugin sees exactly the go-plugin
// client (AutoMTLS, SecureConfig checksum, env layering) that Vault uses.

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"

	log "github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/vault/sdk/helper/consts"
	"github.com/hashicorp/vault/sdk/helper/pluginutil"
	"github.com/hashicorp/vault/sdk/logical"
	bplugin "github.com/hashicorp/vault/sdk/plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

const catalogPrefix = "core/plugin-catalog/secret/"

// catalogEntry is what is persisted; Command is relative to the plugin dir, as in Vault.
type catalogEntry struct {
	Name    string   `json:"name"`
	Version string   `json:"version"`
	Command string   `json:"command"`
	Args    []string `json:"args"`
	Env     []string `json:"env"`
	Sha256  string   `json:"sha256"`
}

// extPlugin is one running process; several mounts share it when the plugin
// answers MultiplexingSupport=true (Vault does the same).
type extPlugin struct {
	client *plugin.Client
	muxed  bool
	conns  map[string]*pluginClient
}

type catalog struct {
	mu       sync.Mutex
	dir      string
	store    logical.Storage
	logger   log.Logger
	logLevel string
	procs    map[string]*extPlugin // by plugin name
}

func newCatalog(dir string, store logical.Storage, logger log.Logger, level string) *catalog {
	return &catalog{dir: dir, store: store, logger: logger, logLevel: level, procs: map[string]*extPlugin{}}
}

func (c *catalog) get(ctx context.Context, name string) (*catalogEntry, error) {
	e, err := c.store.Get(ctx, catalogPrefix+name)
	if err != nil || e == nil {
		return nil, err
	}
	var ce catalogEntry
	if err := json.Unmarshal(e.Value, &ce); err != nil {
		return nil, err
	}
	return &ce, nil
}

func (c *catalog) list(ctx context.Context) ([]string, error) {
	keys, err := c.store.List(ctx, catalogPrefix)
	sort.Strings(keys)
	return keys, err
}

func (c *catalog) delete(ctx context.Context, name string) error {
	return c.store.Delete(ctx, catalogPrefix+name)
}

// runner turns an entry into the SDK's PluginRunner; the command becomes
// absolute and the host's log level is passed the way a Vault server started
// with VAULT_LOG_LEVEL would pass it (through the inherited environment).
func (c *catalog) runner(ce *catalogEntry) (*pluginutil.PluginRunner, error) {
	sum, err := hex.DecodeString(ce.Sha256)
	if err != nil {
		return nil, err
	}
	env := append([]string{}, ce.Env...)
	env = append(env, "VAULT_LOG_LEVEL="+c.logLevel)
	return &pluginutil.PluginRunner{
		Name: ce.Name, Type: consts.PluginTypeSecrets, Version: ce.Version,
		Command: filepath.Join(c.dir, ce.Command), Args: ce.Args, Env: env, Sha256: sum,
	}, nil
}

func (c *catalog) lookup(ctx context.Context, name string) (*pluginutil.PluginRunner, error) {
	ce, err := c.get(ctx, name)
	if err != nil {
		return nil, err
	}
	if ce == nil {
		return nil, fmt.Errorf("plugin not found in the catalog: %s", name)
	}
	return c.runner(ce)
}

// register validates like Vault's PluginCatalog.set: the command must resolve
// inside the plugin directory; then the plugin is launched once to read its
// self-reported version. Unlike Vault (which only warns when that probe fails)
// a checksum mismatch is refused here, so a stale registration fails early.
func (c *catalog) register(ctx context.Context, sys *sysView, ce catalogEntry) error {
	if ce.Name == "" {
		return fmt.Errorf("must specify name to register plugin")
	}
	if ce.Command == "" {
		return fmt.Errorf("must specify command to register plugin")
	}
	want, err := hex.DecodeString(ce.Sha256)
	if err != nil || len(want) == 0 {
		return fmt.Errorf("Could not decode SHA-256 value from Hex")
	}
	abs := filepath.Join(c.dir, ce.Command)
	sym, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return fmt.Errorf("error while validating the command path: %w", err)
	}
	symDir, _ := filepath.Abs(filepath.Dir(sym))
	if symDir != c.dir {
		return fmt.Errorf("cannot execute files outside of configured plugin directory %s: expected %s, got %s", c.dir, c.dir, symDir)
	}
	got, err := fileSHA256(sym)
	if err != nil {
		return err
	}
	if got != hex.EncodeToString(want) {
		return fmt.Errorf("checksums did not match")
	}
	runner, err := c.runner(&ce)
	if err != nil {
		return err
	}
	v, err := c.probeVersion(ctx, sys, runner)
	if err != nil {
		return fmt.Errorf("plugin failed to start: %w", err)
	}
	switch {
	case ce.Version != "" && v != "" && ce.Version != v:
		return fmt.Errorf("plugin version mismatch: %s reported version (%s) did not match requested version (%s)", ce.Name, v, ce.Version)
	case ce.Version == "":
		ce.Version = v
	}
	buf, _ := json.Marshal(ce)
	return c.store.Put(ctx, &logical.StorageEntry{Key: catalogPrefix + ce.Name, Value: buf})
}

// probeVersion is Vault's getBackendRunningVersion: launch, Setup with an
// empty config (failure ignored), PluginVersion, then shut the process down.
func (c *catalog) probeVersion(ctx context.Context, sys *sysView, runner *pluginutil.PluginRunner) (string, error) {
	cfg := pluginutil.PluginClientConfig{
		Name: runner.Name, PluginType: consts.PluginTypeSecrets, PluginSets: bplugin.PluginSet,
		HandshakeConfig: bplugin.HandshakeConfig, Logger: c.logger.Named(runner.Name),
		AutoMTLS: true, Wrapper: sys,
	}
	c.mu.Lock()
	pc, err := c.spawn(ctx, runner, cfg, true)
	c.mu.Unlock()
	if err != nil {
		return "", err
	}
	defer pc.Close()
	b, err := bplugin.Dispense(pc.ClientProtocol, pc)
	if err != nil {
		return "", err
	}
	if err := b.Setup(ctx, &logical.BackendConfig{}); err != nil {
		return "", nil
	}
	if vr, ok := b.(logical.PluginVersioner); ok {
		return vr.PluginVersion().Version, nil
	}
	return "", nil
}

// newPluginClient implements pluginutil.RunnerUtil.NewPluginClient for the SDK.
func (c *catalog) newPluginClient(ctx context.Context, config pluginutil.PluginClientConfig) (pluginutil.PluginClient, error) {
	runner, err := c.lookup(ctx, config.Name)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.spawn(ctx, runner, config, false)
}

// spawn starts a process, or joins a running multiplexed one. c.mu held.
// A probe never joins or is joined: it is a throw-away process, as in Vault.
func (c *catalog) spawn(ctx context.Context, runner *pluginutil.PluginRunner, config pluginutil.PluginClientConfig, probe bool) (*pluginClient, error) {
	key := runner.Name
	id := randomID()
	pc := &pluginClient{id: id, logger: c.logger.Named(runner.Name)}
	ext := c.procs[key]
	if probe || ext == nil || !ext.muxed || len(ext.conns) == 0 || ext.client.Exited() {
		client, err := runner.RunConfig(ctx,
			pluginutil.PluginSets(config.PluginSets),
			pluginutil.HandshakeConfig(config.HandshakeConfig),
			pluginutil.Logger(config.Logger),
			pluginutil.MetadataMode(false),
			pluginutil.AutoMTLS(true),
			pluginutil.Runner(config.Wrapper))
		if err != nil {
			return nil, err
		}
		ext = &extPlugin{client: client, conns: map[string]*pluginClient{}}
		if !probe {
			c.procs[key] = ext
		}
	}
	pc.client = ext.client
	rpc, err := ext.client.Client()
	if err != nil {
		c.dropLocked(key, ext)
		return nil, err
	}
	conn := rpc.(*plugin.GRPCClient).Conn
	muxed, err := pluginutil.MultiplexingSupported(ctx, conn, runner.Name)
	if err != nil {
		c.dropLocked(key, ext)
		return nil, err
	}
	ext.muxed = muxed
	ext.conns[id] = pc
	pc.conn = &muxConn{ClientConn: conn, id: id}
	pc.ClientProtocol = rpc
	pc.closeFn = func() error { return c.release(key, ext, id) }
	pc.reloadFn = func() error { return c.reload(key, ext) }
	return pc, nil
}

// dropLocked kills a process that failed to come up. c.mu held.
func (c *catalog) dropLocked(key string, ext *extPlugin) {
	ext.client.Kill()
	if len(ext.conns) == 0 && c.procs[key] == ext {
		delete(c.procs, key)
	}
}

// release is Vault's cleanupExternalPlugin: a non-multiplexed process dies
// with its only connection; a multiplexed one with its last.
func (c *catalog) release(key string, ext *extPlugin, id string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(ext.conns, id)
	if !ext.muxed || len(ext.conns) == 0 || ext.client.Exited() {
		ext.client.Kill()
		if c.procs[key] == ext {
			delete(c.procs, key)
		}
	}
	return nil
}

// reload is Vault's reloadExternalPlugin: forget the process so the next
// NewPluginClient starts a fresh one.
func (c *catalog) reload(key string, ext *extPlugin) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.procs[key] == ext {
		delete(c.procs, key)
	}
	ext.client.Kill()
	return nil
}

// killAll stops every process still running (host shutdown).
func (c *catalog) killAll() {
	c.mu.Lock()
	procs := c.procs
	c.procs = map[string]*extPlugin{}
	c.mu.Unlock()
	for _, ext := range procs {
		ext.client.Kill()
	}
}

// pluginClient is the pluginutil.PluginClient handed to the SDK's backend client.
type pluginClient struct {
	id       string
	logger   log.Logger
	client   *plugin.Client
	conn     grpc.ClientConnInterface
	closeFn  func() error
	reloadFn func() error
	plugin.ClientProtocol
}

func (p *pluginClient) Conn() grpc.ClientConnInterface { return p.conn }
func (p *pluginClient) Reload() error                  { return p.reloadFn() }
func (p *pluginClient) Close() error                   { return p.closeFn() }

// muxConn adds the multiplex_id metadata to every call, as Vault's pluginClientConn does.
type muxConn struct {
	*grpc.ClientConn
	id string
}

func (d *muxConn) Invoke(ctx context.Context, method string, args, reply interface{}, opts ...grpc.CallOption) error {
	ctx = metadata.NewOutgoingContext(ctx, metadata.Pairs(pluginutil.MultiplexingCtxKey, d.id))
	return d.ClientConn.Invoke(ctx, method, args, reply, opts...)
}

func (d *muxConn) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	ctx = metadata.NewOutgoingContext(ctx, metadata.Pairs(pluginutil.MultiplexingCtxKey, d.id))
	return d.ClientConn.NewStream(ctx, desc, method, opts...)
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func randomID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}
