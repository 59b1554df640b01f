// load: a small HTTP load generator for dev-vault mounts, used by the host
// tests (concurrency, RSS) and the benchmark (latency, throughput). curl in a
// loop measures curl's start-up, not the plugin.
//
//	load -addr http://127.0.0.1:8200 -mount kv -clients 16 -n 1000 -op write
//
// Prints one JSON line: requests, errors, first_error, p50_ms, p99_ms, rps.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

func main() {
	addr := flag.String("addr", "http://127.0.0.1:8200", "dev-vault address")
	token := flag.String("token", "root", "X-Vault-Token")
	mount := flag.String("mount", "kv", "mount path of a KV test plugin")
	clients := flag.Int("clients", 1, "concurrent clients")
	n := flag.Int("n", 1000, "requests per client")
	op := flag.String("op", "write", "write (PUT data/<k>), read (GET data/<k>) or mixed")
	keys := flag.Int("keys", 100, "distinct keys per client")
	flag.Parse()

	tr := &http.Transport{MaxIdleConns: *clients * 2, MaxIdleConnsPerHost: *clients * 2}
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	lat := make([][]time.Duration, *clients)
	errs := make([]int, *clients)
	var firstErr string
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for c := 0; c < *clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			lat[c] = make([]time.Duration, 0, *n)
			for i := 0; i < *n; i++ {
				// mixed: each read follows the write of the same key, so none 404s
				k, write := i%*keys, *op == "write"
				if *op == "mixed" {
					k, write = (i/2)%*keys, i%2 == 0
				}
				url := fmt.Sprintf("%s/v1/%s/data/c%d-k%d", *addr, *mount, c, k)
				var req *http.Request
				if write {
					req, _ = http.NewRequest("PUT", url, strings.NewReader(fmt.Sprintf(`{"value":"v-%d","n":%d}`, i, i)))
				} else {
					req, _ = http.NewRequest("GET", url, nil)
				}
				req.Header.Set("X-Vault-Token", *token)
				t0 := time.Now()
				resp, err := hc.Do(req)
				msg := ""
				if err != nil {
					msg = err.Error()
				} else {
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode/100 != 2 {
						msg = fmt.Sprintf("%s %s: %d %s", req.Method, url, resp.StatusCode, body)
					}
				}
				lat[c] = append(lat[c], time.Since(t0))
				if msg != "" {
					errs[c]++
					mu.Lock()
					if firstErr == "" {
						firstErr = msg
					}
					mu.Unlock()
				}
			}
		}(c)
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	total := 0
	for c := range lat {
		all = append(all, lat[c]...)
		total += errs[c]
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	pct := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		return float64(all[int(p*float64(len(all)-1))].Microseconds()) / 1000
	}
	json.NewEncoder(os.Stdout).Encode(map[string]interface{}{
		"requests": len(all), "errors": total, "first_error": firstErr,
		"p50_ms": pct(0.50), "p99_ms": pct(0.99), "rps": float64(len(all)) / elapsed.Seconds(),
	})
	if total > 0 {
		os.Exit(1)
	}
}
