package main

// Operation counters for the benchmarks (test/bench): the storage calls the host serves to
// plugins and the SystemView replication-state calls they make, read with
// GET /v1/sys/dev/counters. A dev-vault facility, not a Vault API; process-wide, since the
// benchmarks read deltas around one phase.

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/vault/sdk/helper/consts"
	"github.com/hashicorp/vault/sdk/logical"
)

type opCounters struct {
	get, list, put, del, replicationState atomic.Int64
	byPrefix                              sync.Map // "get order" -> *atomic.Int64
}

// count adds one to the op's total and to its count for the key's first path segment, so a
// benchmark can tell order reads from key or role reads.
func (c *opCounters) count(total *atomic.Int64, op, key string) {
	total.Add(1)
	seg, _, _ := strings.Cut(key, "/")
	v, _ := c.byPrefix.LoadOrStore(op+" "+seg, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
}

var devCounters opCounters

func (c *opCounters) snapshot() map[string]interface{} {
	by := map[string]interface{}{}
	c.byPrefix.Range(func(k, v any) bool {
		by[k.(string)] = v.(*atomic.Int64).Load()
		return true
	})
	return map[string]interface{}{
		"storage_get": c.get.Load(), "storage_list": c.list.Load(),
		"storage_put": c.put.Load(), "storage_delete": c.del.Load(),
		"sysview_replication_state": c.replicationState.Load(),
		"by_prefix":                 by,
	}
}

// countingStorage counts every call made on a mount's storage view.
type countingStorage struct{ logical.Storage }

func (s countingStorage) Get(ctx context.Context, key string) (*logical.StorageEntry, error) {
	devCounters.count(&devCounters.get, "get", key)
	return s.Storage.Get(ctx, key)
}

func (s countingStorage) List(ctx context.Context, prefix string) ([]string, error) {
	devCounters.count(&devCounters.list, "list", prefix)
	return s.Storage.List(ctx, prefix)
}

func (s countingStorage) Put(ctx context.Context, e *logical.StorageEntry) error {
	devCounters.count(&devCounters.put, "put", e.Key)
	return s.Storage.Put(ctx, e)
}

func (s countingStorage) Delete(ctx context.Context, key string) error {
	devCounters.count(&devCounters.del, "delete", key)
	return s.Storage.Delete(ctx, key)
}

// ReplicationState is what a plugin asks to learn whether it may write (fw_sysview_can_write).
func (s *sysView) ReplicationState() consts.ReplicationState {
	devCounters.replicationState.Add(1)
	return s.StaticSystemView.ReplicationState()
}
