package main

// The SystemView the SDK serves to the plugin over the broker. StaticSystemView
// supplies harmless defaults; what a plugin can observe (version, identity,
// plugin lookup and launch) is answered from the host's own state.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/hashicorp/vault/sdk/helper/consts"
	"github.com/hashicorp/vault/sdk/helper/pluginutil"
	"github.com/hashicorp/vault/sdk/logical"
)

type sysView struct {
	logical.StaticSystemView
	cat     *catalog
	ids     *identities
	version string
}

func newSysView(cat *catalog, ids *identities, version string) *sysView {
	return &sysView{
		StaticSystemView: logical.StaticSystemView{
			DefaultLeaseTTLVal: systemDefaultLeaseTTL,
			MaxLeaseTTLVal:     systemMaxLeaseTTL,
			VersionString:      version,
			ClusterUUID:        "dev-vault-cluster",
			PluginEnvironment:  &logical.PluginEnvironment{VaultVersion: version},
		},
		cat: cat, ids: ids, version: version,
	}
}

func (s *sysView) VaultVersion(context.Context) (string, error) { return s.version, nil }
func (s *sysView) MlockEnabled() bool                           { return false }

func (s *sysView) LookupPlugin(ctx context.Context, name string, _ consts.PluginType) (*pluginutil.PluginRunner, error) {
	return s.cat.lookup(ctx, name)
}

func (s *sysView) LookupPluginVersion(ctx context.Context, name string, _ consts.PluginType, _ string) (*pluginutil.PluginRunner, error) {
	return s.cat.lookup(ctx, name)
}

func (s *sysView) NewPluginClient(ctx context.Context, config pluginutil.PluginClientConfig) (pluginutil.PluginClient, error) {
	return s.cat.newPluginClient(ctx, config)
}

func (s *sysView) DownloadExtractVerifyPlugin(context.Context, *pluginutil.PluginRunner) error {
	return errors.New("plugin download is not supported by dev-vault")
}

func (s *sysView) EntityInfo(id string) (*logical.Entity, error) { return s.ids.entity(id), nil }

func (s *sysView) GroupsForEntity(id string) ([]*logical.Group, error) { return s.ids.groups(id), nil }

// identities maps tokens to entities. File format (-entities):
//
//	{"token-x": {"entity_id": "e1", "name": "alice", "metadata": {"k": "v"}, "groups": ["g1"]}}
//
// A group's ID is "group-<name>". The root token (-token) has no entity.
type identity struct {
	EntityID string            `json:"entity_id"`
	Name     string            `json:"name"`
	Metadata map[string]string `json:"metadata"`
	Groups   []string          `json:"groups"`
}

type identities struct {
	byToken  map[string]*identity
	byEntity map[string]*identity
}

func loadIdentities(path string) (*identities, error) {
	ids := &identities{byToken: map[string]*identity{}, byEntity: map[string]*identity{}}
	if path == "" {
		return ids, nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, &ids.byToken); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for tok, id := range ids.byToken {
		if id.EntityID == "" {
			return nil, fmt.Errorf("%s: token %q has no entity_id", path, tok)
		}
		ids.byEntity[id.EntityID] = id
	}
	return ids, nil
}

func (ids *identities) entity(entityID string) *logical.Entity {
	id := ids.byEntity[entityID]
	if id == nil {
		return nil
	}
	return &logical.Entity{ID: id.EntityID, Name: id.Name, Metadata: id.Metadata, NamespaceID: "root"}
}

func (ids *identities) groups(entityID string) []*logical.Group {
	id := ids.byEntity[entityID]
	if id == nil {
		return nil
	}
	var out []*logical.Group
	for _, g := range id.Groups {
		out = append(out, &logical.Group{ID: "group-" + g, Name: g, NamespaceID: "root"})
	}
	return out
}
