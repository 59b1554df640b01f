// readonly.go: a standby's storage, on demand. SIGUSR1 switches every mount's storage
// between normal and read-only; read-only writes fail with logical.ErrReadOnly, the error
// an HA standby's storage gives a plugin (OpenBao then forwards the request to the active
// node; this single-node host answers it as the error it is). Lets the e2e suite check
// that a plugin on such a node changes nothing, at the CA or in storage.
package main

import (
	"context"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	"github.com/hashicorp/vault/sdk/logical"
)

// switchableStorage refuses writes while *readOnly is set.
type switchableStorage struct {
	logical.Storage
	readOnly *atomic.Bool
}

func (s switchableStorage) Put(ctx context.Context, e *logical.StorageEntry) error {
	if s.readOnly.Load() {
		return logical.ErrReadOnly
	}
	return s.Storage.Put(ctx, e)
}

func (s switchableStorage) Delete(ctx context.Context, key string) error {
	if s.readOnly.Load() {
		return logical.ErrReadOnly
	}
	return s.Storage.Delete(ctx, key)
}

// mountView is a mount's storage: its prefix of the host's, switchable to read-only, every
// call counted (counters.go).
func (t *mountTable) mountView(uuid string) logical.Storage {
	return countingStorage{switchableStorage{logical.NewStorageView(t.store, "logical/"+uuid+"/"), &t.readOnly}}
}

// watchReadOnlySignal flips the mounts' storage on every SIGUSR1 until ctx ends.
func (t *mountTable) watchReadOnlySignal(ctx context.Context) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGUSR1)
	defer signal.Stop(ch)
	for {
		select {
		case <-ctx.Done():
			return
		case <-ch:
			on := !t.readOnly.Load()
			t.readOnly.Store(on)
			t.logger.Info("mount storage switched", "read_only", on)
		}
	}
}
