// coldstart: time from exec of a plugin binary to its go-plugin handshake line,
// with the environment a Vault ≥ 1.12 host sets (cookie, protocol 5, AutoMTLS
// client certificate). Prints one JSON line: runs, p50_ms, min_ms, max_ms.
//
//	coldstart -runs 20 build/vault-plugin-kv-test
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"

	"github.com/pkiext/devvault/internal/plugenv"
)

func main() {
	runs := flag.Int("runs", 20, "launches")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: coldstart [-runs N] PLUGIN")
		os.Exit(2)
	}
	certPEM, _, err := plugenv.NewCert()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	env := plugenv.Env(certPEM)
	var ms []float64
	for i := 0; i < *runs; i++ {
		cmd, _, d, err := plugenv.Start(flag.Arg(0), env)
		if err != nil {
			fmt.Fprintln(os.Stderr, "coldstart:", err)
			os.Exit(1)
		}
		plugenv.Stop(cmd)
		ms = append(ms, float64(d.Microseconds())/1000)
	}
	sort.Float64s(ms)
	json.NewEncoder(os.Stdout).Encode(map[string]interface{}{
		"runs": len(ms), "p50_ms": ms[len(ms)/2], "min_ms": ms[0], "max_ms": ms[len(ms)-1],
	})
}
