// vault-plugin-kv-test-go: the KV test plugin of test/kvplugin written on the
// Vault Go SDK, for side-by-side host tests and benchmarks. Same paths:
//
//	data/<path>  read/create/update/delete, arbitrary JSON body stored
//	data/        list
//	config       typed fields (name, count, enabled, ttl, tags), existence check
//	stats        rollbacks counter (incremented by the periodic rollback)
//	identity     (Go only) the caller's entity and groups, read back through the
//	             host's SystemView: lets the host suite check identity end to end
package main

import (
	"context"
	"encoding/json"
	"os"

	log "github.com/hashicorp/go-hclog"
	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"
	"github.com/hashicorp/vault/sdk/plugin"
)

const version = "v0.1.0"

func main() {
	err := plugin.ServeMultiplex(&plugin.ServeOpts{
		BackendFactoryFunc: factory,
		Logger:             log.New(&log.LoggerOptions{Level: log.Trace, Output: os.Stderr, JSONFormat: true}),
	})
	if err != nil {
		os.Exit(1)
	}
}

type backend struct {
	*framework.Backend
}

// The rollback counter lives in storage under "stats", as in the C plugin.
func loadRollbacks(ctx context.Context, s logical.Storage) (int64, error) {
	e, err := s.Get(ctx, "stats")
	if err != nil || e == nil {
		return 0, err
	}
	var st struct {
		Rollbacks int64 `json:"rollbacks"`
	}
	return st.Rollbacks, e.DecodeJSON(&st)
}

func (b *backend) periodic(ctx context.Context, req *logical.Request) error {
	n, err := loadRollbacks(ctx, req.Storage)
	if err != nil {
		return err
	}
	e, err := logical.StorageEntryJSON("stats", map[string]int64{"rollbacks": n + 1})
	if err != nil {
		return err
	}
	return req.Storage.Put(ctx, e)
}

func factory(ctx context.Context, conf *logical.BackendConfig) (logical.Backend, error) {
	b := &backend{}
	b.Backend = &framework.Backend{
		Help:           "KV test plugin (Go SDK).",
		BackendType:    logical.TypeLogical,
		RunningVersion: version,
		PeriodicFunc:   b.periodic,
		Paths:          []*framework.Path{b.pathDataList(), b.pathData(), b.pathConfig(), b.pathStats(), b.pathIdentity()},
	}
	if err := b.Setup(ctx, conf); err != nil {
		return nil, err
	}
	return b, nil
}

func (b *backend) pathData() *framework.Path {
	return &framework.Path{
		Pattern:         "data/" + framework.MatchAllRegex("path"),
		Fields:          map[string]*framework.FieldSchema{"path": {Type: framework.TypeString, Description: "Key."}},
		ExistenceCheck:  b.dataExists,
		HelpSynopsis:    "Read and write arbitrary JSON at a path.",
		HelpDescription: "The request body is stored as-is and returned on read.",
		Operations: map[logical.Operation]framework.OperationHandler{
			logical.ReadOperation:   &framework.PathOperation{Callback: b.dataRead},
			logical.CreateOperation: &framework.PathOperation{Callback: b.dataWrite},
			logical.UpdateOperation: &framework.PathOperation{Callback: b.dataWrite},
			logical.DeleteOperation: &framework.PathOperation{Callback: b.dataDelete},
		},
	}
}

func (b *backend) pathDataList() *framework.Path {
	return &framework.Path{
		Pattern:      "data/?$",
		HelpSynopsis: "List keys.",
		Operations: map[logical.Operation]framework.OperationHandler{
			logical.ListOperation: &framework.PathOperation{Callback: b.dataList},
		},
	}
}

func (b *backend) dataExists(ctx context.Context, req *logical.Request, d *framework.FieldData) (bool, error) {
	e, err := req.Storage.Get(ctx, "data/"+d.Get("path").(string))
	return e != nil, err
}

func (b *backend) dataRead(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	e, err := req.Storage.Get(ctx, "data/"+d.Get("path").(string))
	if err != nil || e == nil {
		return nil, err
	}
	var data map[string]interface{}
	if err := json.Unmarshal(e.Value, &data); err != nil {
		return nil, err
	}
	return &logical.Response{Data: data}, nil
}

func (b *backend) dataWrite(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	data := req.Data
	if data == nil {
		data = map[string]interface{}{} // like the C plugin: an empty write stores {}
	}
	buf, err := json.Marshal(data)
	if err != nil {
		return nil, err
	}
	return nil, req.Storage.Put(ctx, &logical.StorageEntry{Key: "data/" + d.Get("path").(string), Value: buf})
}

func (b *backend) dataDelete(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	return nil, req.Storage.Delete(ctx, "data/"+d.Get("path").(string))
}

func (b *backend) dataList(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	keys, err := req.Storage.List(ctx, "data/")
	if err != nil {
		return nil, err
	}
	return logical.ListResponse(keys), nil
}

// config mirrors test/kvplugin/config.c: every write keeps stored values for
// fields it does not set; created_via records the operation of the last write.
type config struct {
	Name       string   `json:"name"`
	Count      int      `json:"count"`
	Enabled    bool     `json:"enabled"`
	TTL        int      `json:"ttl"`
	Tags       []string `json:"tags"`
	Created    bool     `json:"created"`
	CreatedVia string   `json:"created_via"`
}

func (b *backend) pathConfig() *framework.Path {
	return &framework.Path{
		Pattern: "config",
		Fields: map[string]*framework.FieldSchema{
			"name":    {Type: framework.TypeString, Description: "Name of the configuration (required on the first write).", Required: true},
			"count":   {Type: framework.TypeInt, Description: "A number, default 3.", Default: 3},
			"enabled": {Type: framework.TypeBool, Description: "A flag, default false."},
			"ttl":     {Type: framework.TypeDurationSecond, Description: "A duration, default 1h.", Default: "1h"},
			"tags":    {Type: framework.TypeCommaStringSlice, Description: "A list, as \"a,b\" or a JSON array."},
		},
		ExistenceCheck:  b.configExists,
		HelpSynopsis:    "Typed configuration, for testing field parsing.",
		HelpDescription: "Reads return every field plus created and created_via (create or update).",
		Operations: map[logical.Operation]framework.OperationHandler{
			logical.ReadOperation:   &framework.PathOperation{Callback: b.configRead},
			logical.CreateOperation: &framework.PathOperation{Callback: b.configWrite},
			logical.UpdateOperation: &framework.PathOperation{Callback: b.configWrite},
			logical.DeleteOperation: &framework.PathOperation{Callback: b.configDelete},
		},
	}
}

func (b *backend) loadConfig(ctx context.Context, s logical.Storage) (*config, error) {
	e, err := s.Get(ctx, "config")
	if err != nil || e == nil {
		return nil, err
	}
	c := &config{}
	return c, e.DecodeJSON(c)
}

func (b *backend) configExists(ctx context.Context, req *logical.Request, _ *framework.FieldData) (bool, error) {
	c, err := b.loadConfig(ctx, req.Storage)
	return c != nil, err
}

func (b *backend) configRead(ctx context.Context, req *logical.Request, _ *framework.FieldData) (*logical.Response, error) {
	e, err := req.Storage.Get(ctx, "config")
	if err != nil || e == nil {
		return nil, err
	}
	var data map[string]interface{}
	return &logical.Response{Data: data}, json.Unmarshal(e.Value, &data)
}

func (b *backend) configWrite(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	c, err := b.loadConfig(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	if c == nil {
		if _, ok := d.GetOk("name"); !ok {
			return logical.ErrorResponse("missing name"), nil
		}
		c = &config{Count: d.Get("count").(int), TTL: d.Get("ttl").(int), Tags: []string{}}
	}
	if v, ok := d.GetOk("name"); ok {
		c.Name = v.(string)
	}
	if v, ok := d.GetOk("count"); ok {
		c.Count = v.(int)
	}
	if v, ok := d.GetOk("enabled"); ok {
		c.Enabled = v.(bool)
	}
	if v, ok := d.GetOk("ttl"); ok {
		c.TTL = v.(int)
	}
	if v, ok := d.GetOk("tags"); ok {
		c.Tags = v.([]string)
	}
	create := req.Operation == logical.CreateOperation
	c.Created = c.Created || create
	c.CreatedVia = string(req.Operation)
	e, err := logical.StorageEntryJSON("config", c)
	if err != nil {
		return nil, err
	}
	return nil, req.Storage.Put(ctx, e)
}

func (b *backend) configDelete(ctx context.Context, req *logical.Request, _ *framework.FieldData) (*logical.Response, error) {
	return nil, req.Storage.Delete(ctx, "config")
}

func (b *backend) pathStats() *framework.Path {
	return &framework.Path{
		Pattern:      "stats",
		HelpSynopsis: "Counters of this plugin process.",
		Operations: map[logical.Operation]framework.OperationHandler{
			logical.ReadOperation: &framework.PathOperation{Callback: func(ctx context.Context, req *logical.Request, _ *framework.FieldData) (*logical.Response, error) {
				n, err := loadRollbacks(ctx, req.Storage)
				return &logical.Response{Data: map[string]interface{}{"rollbacks": n}}, err
			}},
		},
	}
}

func (b *backend) pathIdentity() *framework.Path {
	return &framework.Path{
		Pattern:      "identity",
		HelpSynopsis: "The caller's identity as the host's SystemView reports it.",
		Operations: map[logical.Operation]framework.OperationHandler{
			logical.ReadOperation: &framework.PathOperation{Callback: b.identityRead},
		},
	}
}

func (b *backend) identityRead(_ context.Context, req *logical.Request, _ *framework.FieldData) (*logical.Response, error) {
	data := map[string]interface{}{"entity_id": req.EntityID, "name": "", "metadata": map[string]string{}, "groups": []string{}}
	if req.EntityID != "" {
		ent, err := b.System().EntityInfo(req.EntityID)
		if err != nil {
			return nil, err
		}
		if ent != nil {
			data["name"], data["metadata"] = ent.Name, ent.Metadata
		}
		groups, err := b.System().GroupsForEntity(req.EntityID)
		if err != nil {
			return nil, err
		}
		names := []string{}
		for _, g := range groups {
			names = append(names, g.Name)
		}
		data["groups"] = names
	}
	return &logical.Response{Data: data}, nil
}
