// dev-vault: a Vault-compatible development host for external secrets plugins.
// It launches plugins with the Vault SDK's own host-side code (plugin runner,
// AutoMTLS go-plugin client, backend gRPC client, storage and system-view
// servers over the broker) and exposes Vault's HTTP API shape on loopback.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	log "github.com/hashicorp/go-hclog"
	"github.com/hashicorp/vault/sdk/logical"
	"github.com/hashicorp/vault/sdk/physical"
	"github.com/hashicorp/vault/sdk/physical/file"
	"github.com/hashicorp/vault/sdk/physical/inmem"
)

type server struct {
	token   string
	version string
	dataDir string
	logger  log.Logger
	ids     *identities
	cat     *catalog
	sys     *sysView
	mounts  *mountTable
	started time.Time // stands in for the root token's creation_time
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8200", "listen address (port 0 picks a free port)")
	token := flag.String("token", "root", "root token")
	pluginDir := flag.String("plugin-dir", ".", "plugin directory (catalog commands are relative to it)")
	dataDir := flag.String("data", "", "persist storage, catalog and mounts in this directory (default: in memory)")
	rollback := flag.Duration("rollback-interval", time.Minute, "period of the rollback sent to every mount")
	version := flag.String("version", "2.0.0", "Vault version reported by sys/health and sys/seal-status and to plugins")
	entities := flag.String("entities", "", `JSON file mapping tokens to entities: {"tok": {"entity_id","name","metadata","groups"}}`)
	level := flag.String("log-level", "info", "log level (trace, debug, info, warn, error); also given to plugins as VAULT_LOG_LEVEL")
	flag.Parse()

	logger := log.New(&log.LoggerOptions{Name: "dev-vault", Level: log.LevelFromString(*level), Output: os.Stderr})
	if err := run(logger, *addr, *token, *pluginDir, *dataDir, *rollback, *version, *entities, *level); err != nil {
		logger.Error("fatal", "error", err)
		os.Exit(1)
	}
}

func run(logger log.Logger, addr, token, pluginDir, dataDir string, rollback time.Duration, version, entities, level string) error {
	dir, err := filepath.Abs(pluginDir)
	if err == nil {
		dir, err = filepath.EvalSymlinks(dir)
	}
	if err != nil {
		return fmt.Errorf("plugin directory: %w", err)
	}
	ids, err := loadIdentities(entities)
	if err != nil {
		return err
	}
	store, err := openStorage(dataDir, logger)
	if err != nil {
		return err
	}
	cat := newCatalog(dir, store, logger, level)
	sys := newSysView(cat, ids, version)
	s := &server{token: token, version: version, dataDir: dataDir, logger: logger, ids: ids,
		cat: cat, sys: sys, mounts: newMountTable(store, sys, logger), started: time.Now()}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := s.mounts.restore(ctx); err != nil {
		return fmt.Errorf("restoring mounts: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	// The real address on stdout lets scripts use -addr 127.0.0.1:0.
	fmt.Printf("dev-vault listening on http://%s\n", ln.Addr())
	os.Stdout.Sync()
	go s.mounts.rollbackLoop(ctx, rollback)
	go s.mounts.watchReadOnlySignal(ctx)
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv.Shutdown(sctx)
	s.mounts.shutdown(sctx) // Cleanup + GRPCController.Shutdown + kill, per mount
	cat.killAll()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

func openStorage(dir string, logger log.Logger) (logical.Storage, error) {
	var b physical.Backend
	var err error
	if dir == "" {
		b, err = inmem.NewInmem(nil, logger.Named("storage"))
	} else {
		if err = os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		b, err = file.NewFileBackend(map[string]string{"path": dir}, logger.Named("storage"))
	}
	if err != nil {
		return nil, err
	}
	return logical.NewLogicalStorage(b), nil
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, "/v1/") {
		logical.RespondError(w, http.StatusNotFound, nil)
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/v1/")
	switch path {
	case "sys/health":
		s.handleHealth(w, r)
		return
	case "sys/seal-status":
		s.handleSealStatus(w, r)
		return
	}
	token := r.Header.Get("X-Vault-Token")
	if token == "" {
		token = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	if token == "" || (token != s.token && s.ids.byToken[token] == nil) {
		logical.RespondError(w, http.StatusForbidden, logical.ErrPermissionDenied)
		return
	}
	switch {
	case strings.HasPrefix(path, "sys/"):
		s.handleSys(w, r, path)
	case path == "auth/token/lookup-self":
		s.lookupSelf(w, token)
	default:
		s.handleLogical(w, r, path, token)
	}
}

// lookupSelf lets API clients (the vault CLI, Terraform) check their token. The
// fields and types are the token store's handleLookup for a root token, which has
// no lease (so no renewable, issue_time or last_renewal keys): times are integer
// Unix seconds, TTLs integer seconds, expire_time null.
func (s *server) lookupSelf(w http.ResponseWriter, token string) {
	req := &logical.Request{}
	s.authorize(req, token)
	data := map[string]interface{}{
		"id": token, "accessor": req.ClientTokenAccessor, "display_name": req.DisplayName,
		"entity_id": req.EntityID, "policies": []string{"root"}, "path": "auth/token/root",
		"meta": nil, "num_uses": 0, "orphan": true, "creation_time": s.started.Unix(),
		"creation_ttl": 0, "expire_time": nil, "ttl": 0, "explicit_max_ttl": 0,
		"type": "service",
	}
	respondOk(w, &logical.HTTPResponse{RequestID: uuid(), Data: data, MountType: "token"})
}
