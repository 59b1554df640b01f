package main

// The sys/ endpoints a client of this host needs: health and seal status (the
// Terraform provider reads "version" there), the plugin catalog and mounts.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/vault/sdk/logical"
)

var errNotFound = errors.New("unsupported path")

// respondSys answers like Vault's handleLogicalWithInjector: data both at the
// top level and under "data".
func respondSys(w http.ResponseWriter, data map[string]interface{}) {
	h := &logical.HTTPResponse{RequestID: uuid(), Data: data, MountType: "system"}
	respondOk(w, logical.HTTPSysInjector{Response: h})
}

// handleHealth is http/sys_health.go's HealthResponse of an active, unsealed node.
func (s *server) handleHealth(w http.ResponseWriter, r *http.Request) {
	body := map[string]interface{}{
		"initialized": true, "sealed": false, "standby": false, "performance_standby": false,
		"replication_performance_mode": "disabled", "replication_dr_mode": "disabled",
		"server_time_utc": time.Now().Unix(), "version": s.version, "enterprise": false,
		"cluster_name": "dev-vault", "cluster_id": s.sys.ClusterUUID,
		"echo_duration_ms": 0, "clock_skew_ms": 0, "replication_primary_canary_age_ms": 0,
	}
	if r.Method == "HEAD" {
		w.WriteHeader(http.StatusOK)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	json.NewEncoder(w).Encode(body)
}

func (s *server) handleSealStatus(w http.ResponseWriter, r *http.Request) {
	storage := "inmem"
	if s.dataDir != "" {
		storage = "file"
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]interface{}{
		"type": "shamir", "initialized": true, "sealed": false, "t": 1, "n": 1, "progress": 0,
		"nonce": "", "version": s.version, "build_date": "2026-01-01T00:00:00Z", "migration": false,
		"cluster_name": "dev-vault", "cluster_id": s.sys.ClusterUUID, "recovery_seal": false,
		"storage_type": storage,
	})
}

// handleSys dispatches the authenticated sys/ paths.
func (s *server) handleSys(w http.ResponseWriter, r *http.Request, path string) {
	ctx := r.Context()
	isList := r.Method == "LIST" || (r.Method == "GET" && r.URL.Query().Get("list") == "true")
	var err error
	switch {
	case path == "sys/plugins/catalog" && r.Method == "GET":
		err = s.catalogIndex(ctx, w)
	case strings.HasPrefix(path, "sys/plugins/catalog/secret"):
		name := strings.Trim(strings.TrimPrefix(path, "sys/plugins/catalog/secret"), "/")
		err = s.catalogPath(ctx, w, r, name, isList)
	case path == "sys/mounts" && r.Method == "GET":
		out := map[string]interface{}{}
		for _, m := range s.mounts.list() {
			out[m.entry.Path] = s.mountInfo(m)
		}
		respondSys(w, out)
	case strings.HasPrefix(path, "sys/mounts/"):
		err = s.mountPath(ctx, w, r, strings.TrimPrefix(path, "sys/mounts/"))
	case path == "sys/internal/specs/openapi" && r.Method == "GET":
		s.handleOpenAPI(w, r)
	case path == "sys/dev/counters" && r.Method == "GET":
		respondSys(w, devCounters.snapshot()) // benchmarks only (counters.go)
	default:
		err = errNotFound
	}
	switch {
	case err == errNotFound:
		logical.RespondError(w, http.StatusNotFound, fmt.Errorf("1 error occurred:\n\t* unsupported path\n\n"))
	case err != nil:
		logical.RespondError(w, http.StatusBadRequest, err)
	}
}

func (s *server) catalogIndex(ctx context.Context, w http.ResponseWriter) error {
	names, err := s.cat.list(ctx)
	if err != nil {
		return err
	}
	detailed := []map[string]interface{}{}
	for _, n := range names {
		if ce, _ := s.cat.get(ctx, n); ce != nil {
			detailed = append(detailed, map[string]interface{}{"name": n, "type": "secret",
				"version": ce.Version, "sha256": ce.Sha256, "builtin": false})
		}
	}
	respondSys(w, map[string]interface{}{"secret": names, "detailed": detailed})
	return nil
}

func (s *server) catalogPath(ctx context.Context, w http.ResponseWriter, r *http.Request, name string, isList bool) error {
	switch {
	case isList || (name == "" && r.Method == "GET"):
		names, err := s.cat.list(ctx)
		if err != nil {
			return err
		}
		respondSys(w, map[string]interface{}{"keys": names})
	case name == "":
		return errNotFound
	case r.Method == "PUT" || r.Method == "POST":
		var in catalogEntry
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			return fmt.Errorf("error parsing JSON: %w", err)
		}
		in.Name = name
		if err := s.cat.register(ctx, s.sys, in); err != nil {
			return err
		}
		respondOk(w, nil)
	case r.Method == "GET":
		ce, err := s.cat.get(ctx, name)
		if err != nil {
			return err
		}
		if ce == nil {
			logical.RespondError(w, http.StatusNotFound, nil)
			return nil
		}
		respondSys(w, map[string]interface{}{"name": ce.Name, "command": ce.Command,
			"args": nonNil(ce.Args), "sha256": ce.Sha256, "builtin": false, "version": ce.Version})
	case r.Method == "DELETE":
		if err := s.cat.delete(ctx, name); err != nil {
			return err
		}
		respondOk(w, nil)
	default:
		return errNotFound
	}
	return nil
}

type enableInput struct {
	Type          string                 `json:"type"`
	Description   string                 `json:"description"`
	Config        map[string]interface{} `json:"config"`
	Options       map[string]string      `json:"options"`
	PluginVersion string                 `json:"plugin_version"`
}

// tuneInput is what sys/mounts/<path>/tune takes from the CLI and Terraform.
type tuneInput struct {
	DefaultLeaseTTL interface{}       `json:"default_lease_ttl"`
	MaxLeaseTTL     interface{}       `json:"max_lease_ttl"`
	Description     *string           `json:"description"`
	Options         map[string]string `json:"options"`
}

func (s *server) mountPath(ctx context.Context, w http.ResponseWriter, r *http.Request, path string) error {
	if strings.HasSuffix(path, "/tune") {
		m := s.mounts.get(strings.TrimSuffix(path, "tune"))
		if m == nil {
			return fmt.Errorf("cannot fetch sysview for path %q", path)
		}
		if r.Method == "GET" {
			respondSys(w, tuneInfo(m))
			return nil
		}
		var in tuneInput
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil && err != io.EOF {
			return fmt.Errorf("error parsing JSON: %w", err)
		}
		err := s.mounts.tune(ctx, m.entry.Path, func(e *mountEntry) error {
			ttls := map[string]interface{}{"default_lease_ttl": in.DefaultLeaseTTL,
				"max_lease_ttl": in.MaxLeaseTTL}
			if err := e.Config.applyTTLs(ttls, true); err != nil {
				return err
			}
			if in.Description != nil {
				e.Description = *in.Description
			}
			if len(in.Options) > 0 {
				opts := map[string]string{}
				for k, v := range e.Options {
					opts[k] = v
				}
				for k, v := range in.Options {
					opts[k] = v
				}
				e.Options = opts
			}
			return nil
		})
		if err != nil {
			return err
		}
		respondOk(w, nil)
		return nil
	}
	path = strings.TrimSuffix(path, "/") + "/"
	switch r.Method {
	case "POST", "PUT":
		var in enableInput
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			return fmt.Errorf("error parsing JSON: %w", err)
		}
		if in.Type == "" {
			return errors.New("backend type must be specified as a string")
		}
		e := mountEntry{Path: path, Type: in.Type, Description: in.Description,
			Options: in.Options, PluginVersion: in.PluginVersion}
		if err := e.Config.applyTTLs(in.Config, false); err != nil {
			return err
		}
		if err := s.mounts.enable(ctx, e); err != nil {
			return err
		}
		respondOk(w, nil)
	case "DELETE":
		if err := s.mounts.disable(ctx, path); err != nil {
			return err
		}
		respondOk(w, nil)
	case "GET":
		m := s.mounts.get(path)
		if m == nil {
			return fmt.Errorf("No secret engine mount at %s", path)
		}
		respondSys(w, s.mountInfo(m))
	default:
		return errNotFound
	}
	return nil
}

func (s *server) mountInfo(m *mount) map[string]interface{} {
	running := ""
	if m.backend != nil {
		running = m.backend.pluginVersion()
	}
	sha := ""
	if ce, _ := s.cat.get(context.Background(), m.entry.Type); ce != nil {
		sha = ce.Sha256
	}
	opts := map[string]interface{}{}
	for k, v := range m.entry.Options {
		opts[k] = v
	}
	return map[string]interface{}{
		"type": m.entry.Type, "description": m.entry.Description, "accessor": m.entry.Accessor,
		"uuid": m.entry.UUID, "options": opts, "local": false,
		"seal_wrap": false, "external_entropy_access": false, "plugin_version": m.entry.PluginVersion,
		"running_plugin_version": running, "running_sha256": sha,
		"config": map[string]interface{}{"default_lease_ttl": m.entry.Config.DefaultLeaseTTL,
			"max_lease_ttl": m.entry.Config.MaxLeaseTTL, "force_no_cache": m.entry.Config.ForceNoCache},
	}
}

// tuneInfo is handleTuneReadCommon: effective TTLs in seconds, options and
// plugin_version only when set.
func tuneInfo(m *mount) map[string]interface{} {
	def, max := m.entry.Config.effective()
	out := map[string]interface{}{"description": m.entry.Description, "default_lease_ttl": def,
		"max_lease_ttl": max, "force_no_cache": m.entry.Config.ForceNoCache}
	if len(m.entry.Options) > 0 {
		out["options"] = m.entry.Options
	}
	if m.entry.PluginVersion != "" {
		out["plugin_version"] = m.entry.PluginVersion
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
