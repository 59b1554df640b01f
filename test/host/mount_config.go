package main

// A mount's tunable config as Vault keeps it (vault/mount.go MountConfig): TTLs in
// whole seconds, 0 meaning "the system default". Clients send TTLs as duration
// strings ("0s", "1h", "768h", "3600"); Vault replies with integer seconds, and
// the Terraform provider's vault_mount decodes them into ints, so an echoed "0s"
// breaks it ("expected type 'int', got unconvertible type 'string'").

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/hashicorp/go-secure-stdlib/parseutil"
)

// The system TTLs of a Vault dev server (32 days), also what the host's
// SystemView reports to plugins.
const (
	systemDefaultLeaseTTL = 768 * time.Hour
	systemMaxLeaseTTL     = 768 * time.Hour
)

type mountConfig struct {
	DefaultLeaseTTL int64 `json:"default_lease_ttl"` // seconds; 0 = system
	MaxLeaseTTL     int64 `json:"max_lease_ttl"`     // seconds; 0 = system
	ForceNoCache    bool  `json:"force_no_cache"`
}

// parseTTL reads one TTL value of a mount or tune request the way Vault's
// handleMount/handleTuneWriteCommon do: "" keeps cur, "system" is 0, anything
// else goes through parseutil.ParseDurationSecond. Numbers are accepted only
// where Vault's field decoding accepts them (tune: a TypeString field).
func parseTTL(field string, v interface{}, cur int64, numbers bool) (int64, error) {
	var s string
	switch t := v.(type) {
	case nil:
		return cur, nil
	case string:
		s = t
	case float64, json.Number:
		if !numbers {
			return 0, fmt.Errorf("unable to convert given mount config information")
		}
		s = fmt.Sprint(t)
	default:
		return 0, fmt.Errorf("unable to convert given mount config information")
	}
	switch s {
	case "":
		return cur, nil
	case "system":
		return 0, nil
	}
	d, err := parseutil.ParseDurationSecond(s)
	if err != nil {
		return 0, fmt.Errorf("unable to parse %s of %s: %w", field, s, err)
	}
	if d < 0 {
		return 0, fmt.Errorf("%s must not be negative", field)
	}
	return int64(d.Seconds()), nil
}

// applyTTLs sets both TTLs from a request map and checks them as Vault does.
func (c *mountConfig) applyTTLs(in map[string]interface{}, numbers bool) error {
	def, err := parseTTL("default TTL", in["default_lease_ttl"], c.DefaultLeaseTTL, numbers)
	if err != nil {
		return err
	}
	max, err := parseTTL("max TTL", in["max_lease_ttl"], c.MaxLeaseTTL, numbers)
	if err != nil {
		return err
	}
	effMax := max
	if effMax == 0 {
		effMax = int64(systemMaxLeaseTTL.Seconds())
	}
	if def > effMax { // Vault's tuneMountTTLs wording (OpenBao keeps it)
		return fmt.Errorf("backend max lease TTL of %d would be less than backend default lease TTL of %d", effMax, def)
	}
	if v, ok := in["force_no_cache"]; ok {
		b, ok := v.(bool)
		if !ok {
			return fmt.Errorf("unable to convert given mount config information")
		}
		c.ForceNoCache = b
	}
	c.DefaultLeaseTTL, c.MaxLeaseTTL = def, max
	return nil
}

// effective is what tune reads report: the mount's TTL, or the system's when
// unset. sys/mounts and sys/mounts/<path> report the stored values (0 = system),
// Vault's "legacy" TTL format, which OpenBao keeps too.
func (c mountConfig) effective() (def, max int64) {
	def, max = c.DefaultLeaseTTL, c.MaxLeaseTTL
	if def == 0 {
		def = int64(systemDefaultLeaseTTL.Seconds())
	}
	if max == 0 {
		max = int64(systemMaxLeaseTTL.Seconds())
	}
	return def, max
}
