// orderload: the load driver behind test/bench/orders.sh (stdlib only). It talks to Vault's
// HTTP API (dev-vault or a real server) with one keep-alive client, so the figures are the
// engine's and not curl's start-up time, and fulfils http-01 through challtestsrv.
//
//	orderload [common flags] latency    -n 50  [-poll 20ms]          sequential orders: p50/p99
//	orderload [common flags] concurrent -n 200 [-c 200] [-poll 50ms] wall time of N orders at once
//	orderload [common flags] e2e        -n 20  [-poll 20ms]          full flow incl. fetch-cert
//	orderload [common flags] place      -n 1000 -out F               N orders left awaiting
//	orderload [common flags] fulfil     -in F [-rate R]              fulfil them all at once (or R a second)
//	orderload [common flags] lookup     -ids a.txt,b.txt [-reqs 2000] lookup/order p50 per id set
//	orderload seed -mountdir DIR -src ID -count N -out FILE          copy a stored order (offline)
//
// Common flags: -addr, -token, -mount, -role, -cts (challtestsrv URL), -tag (identifier
// prefix), -ids-out (append the order ids placed, one a line). Results are printed as
// "RESULT name value" lines for the script; progress and errors go to stderr.
package main

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	mrand "math/rand"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

var (
	addr   = flag.String("addr", os.Getenv("VAULT_ADDR"), "Vault address")
	token  = flag.String("token", os.Getenv("VAULT_TOKEN"), "Vault token")
	mount  = flag.String("mount", "pki-external-ca", "mount path")
	role   = flag.String("role", "bench", "role name")
	cts    = flag.String("cts", os.Getenv("CHALLTESTSRV_URL"), "challtestsrv management URL")
	tag    = flag.String("tag", "b", "identifier prefix (unique per run and phase)")
	idsOut = flag.String("ids-out", "", "append the ids of the orders placed to this file")
	limit  = flag.Duration("limit", 60*time.Second, "longest wait for one status change")
)

var hc = &http.Client{
	Timeout: 60 * time.Second,
	Transport: &http.Transport{
		MaxIdleConns:        512,
		MaxIdleConnsPerHost: 512,
		IdleConnTimeout:     90 * time.Second,
	},
}

func die(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "orderload: "+format+"\n", a...)
	os.Exit(1)
}

// vault does METHOD /v1/PATH with an optional JSON body; returns the "data" object.
func vault(method, path string, body any) (map[string]any, int, error) {
	return vaultAt(*addr, method, path, body)
}

// vaultAt: the same against another Vault address.
func vaultAt(base, method, path string, body any) (map[string]any, int, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+"/v1/"+path, rd)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("X-Vault-Token", *token)
	req.Header.Set("X-Vault-Request", "true")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, resp.StatusCode, err
	}
	if resp.StatusCode/100 != 2 {
		return nil, resp.StatusCode, fmt.Errorf("%s %s: HTTP %d: %.300s", method, path, resp.StatusCode, raw)
	}
	var out struct {
		Data map[string]any `json:"data"`
	}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			return nil, resp.StatusCode, fmt.Errorf("%s %s: %v", method, path, err)
		}
	}
	return out.Data, resp.StatusCode, nil
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func ctsPost(op string, body any) error {
	b, _ := json.Marshal(body)
	resp, err := hc.Post(*cts+"/"+op, "application/json", bytes.NewReader(b))
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("challtestsrv %s: HTTP %d", op, resp.StatusCode)
	}
	return nil
}

func orderPath(id string) string { return fmt.Sprintf("%s/role/%s/order/%s", *mount, *role, id) }

// waitStatus polls the order's status every poll until it is want (or a later state that
// skips it, for "awaiting"); returns the time it was observed.
func waitStatus(id, want string, poll time.Duration, limit time.Duration) (time.Time, error) {
	deadline := time.Now().Add(limit)
	last := ""
	for {
		d, _, err := vault("GET", orderPath(id)+"/status", nil)
		now := time.Now()
		if err == nil {
			last = str(d, "order_status")
			if last == want {
				return now, nil
			}
			switch last {
			case "error", "expired", "revoked":
				return now, fmt.Errorf("order %s: %s (last_error %q), waiting for %s", id, last, str(d, "last_error"), want)
			case "completed":
				return now, fmt.Errorf("order %s: completed while waiting for %s (pre-authorized?)", id, want)
			}
		}
		if now.After(deadline) {
			return now, fmt.Errorf("order %s: still %q after %v waiting for %s (%v)", id, last, limit, want, err)
		}
		time.Sleep(poll)
	}
}

type orderTimes struct {
	id, ident                     string
	start, awaiting, fulfil, done time.Time
	fetched                       time.Time
}

// placeOrder: new-order, then wait until the order awaits its challenge.
func placeOrder(ident string, poll time.Duration) (orderTimes, error) {
	var t orderTimes
	t.ident = ident
	t.start = time.Now()
	d, _, err := vault("PUT", fmt.Sprintf("%s/role/%s/new-order", *mount, *role),
		map[string]any{"identifiers": []string{ident}})
	if err != nil {
		return t, err
	}
	t.id = str(d, "order_id")
	if t.id == "" {
		return t, errors.New("new-order: no order_id")
	}
	t.awaiting, err = waitStatus(t.id, "awaiting-challenge-fulfillment", poll, *limit)
	return t, err
}

// fulfilOrder: challenge, publish, fulfilled-challenge, wait completed, and fetch-cert when
// fetch is set.
func fulfilOrder(t *orderTimes, poll time.Duration, fetch bool) error {
	c, _, err := vault("GET", orderPath(t.id)+"/challenge?challenge_type=http-01&identifier="+t.ident, nil)
	if err != nil {
		return err
	}
	tok, auth := str(c, "challenge_token"), str(c, "challenge_auth")
	if tok == "" || auth == "" {
		return fmt.Errorf("order %s: challenge without token/auth", t.id)
	}
	if err := ctsPost("add-http01", map[string]string{"token": tok, "content": auth}); err != nil {
		return err
	}
	t.fulfil = time.Now()
	if _, _, err := vault("PUT", orderPath(t.id)+"/fulfilled-challenge",
		map[string]string{"identifier": t.ident, "challenge_type": "http-01"}); err != nil {
		return err
	}
	if t.done, err = waitStatus(t.id, "completed", poll, *limit); err != nil {
		return err
	}
	ctsPost("del-http01", map[string]string{"token": tok})
	if fetch {
		f, _, err := vault("GET", orderPath(t.id)+"/fetch-cert", nil)
		if err != nil {
			return err
		}
		if !strings.HasPrefix(str(f, "certificate"), "-----BEGIN CERTIFICATE-----") || str(f, "private_key") == "" {
			return fmt.Errorf("order %s: fetch-cert without certificate/private_key", t.id)
		}
		t.fetched = time.Now()
	}
	return nil
}

// runOrder: placeOrder then fulfilOrder.
func runOrder(ident string, poll time.Duration, fetch bool) (orderTimes, error) {
	t, err := placeOrder(ident, poll)
	if err != nil {
		return t, err
	}
	return t, fulfilOrder(&t, poll, fetch)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// pct: nearest-rank percentile of sorted durations.
func pct(s []time.Duration, p float64) time.Duration {
	if len(s) == 0 {
		return 0
	}
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	k := int(p/100*float64(len(s))+0.999999) - 1
	if k < 0 {
		k = 0
	}
	if k >= len(s) {
		k = len(s) - 1
	}
	return s[k]
}

func saveIDs(ts []orderTimes) {
	if *idsOut == "" {
		return
	}
	f, err := os.OpenFile(*idsOut, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		die("%v", err)
	}
	defer f.Close()
	for _, t := range ts {
		if t.id != "" {
			fmt.Fprintln(f, t.id)
		}
	}
}

func ident(i int) string { return fmt.Sprintf("%s-%d.example.com", *tag, i) }

func cmdLatency(args []string) {
	fs := flag.NewFlagSet("latency", flag.ExitOnError)
	n := fs.Int("n", 50, "orders")
	poll := fs.Duration("poll", 20*time.Millisecond, "status poll interval")
	fs.Parse(args)
	var aw, co []time.Duration
	var ts []orderTimes
	for i := 0; i < *n; i++ {
		t, err := runOrder(ident(i), *poll, false)
		if err != nil {
			die("latency order %d: %v", i, err)
		}
		ts = append(ts, t)
		aw = append(aw, t.awaiting.Sub(t.start))
		co = append(co, t.done.Sub(t.fulfil))
	}
	saveIDs(ts)
	fmt.Printf("RESULT awaiting_p50_ms %.1f\nRESULT awaiting_p99_ms %.1f\n", ms(pct(aw, 50)), ms(pct(aw, 99)))
	fmt.Printf("RESULT completed_p50_ms %.1f\nRESULT completed_p99_ms %.1f\n", ms(pct(co, 50)), ms(pct(co, 99)))
	fmt.Printf("RESULT awaiting_max_ms %.1f\nRESULT completed_max_ms %.1f\n", ms(pct(aw, 100)), ms(pct(co, 100)))
}

// runMany runs n orders with at most c in flight; returns the times and the first error.
func runMany(n, c int, poll time.Duration, fetch bool) ([]orderTimes, error) {
	ts := make([]orderTimes, n)
	errs := make([]error, n)
	sem := make(chan struct{}, c)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			ts[i], errs[i] = runOrder(ident(i), poll, fetch)
		}(i)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return ts, fmt.Errorf("order %d: %v", i, err)
		}
	}
	return ts, nil
}

func cmdConcurrent(args []string) {
	fs := flag.NewFlagSet("concurrent", flag.ExitOnError)
	n := fs.Int("n", 200, "orders")
	c := fs.Int("c", 0, "orders in flight (default n)")
	poll := fs.Duration("poll", 50*time.Millisecond, "status poll interval per order")
	fs.Parse(args)
	if *c <= 0 {
		*c = *n
	}
	ts, err := runMany(*n, *c, *poll, false)
	saveIDs(ts)
	if err != nil {
		die("concurrent: %v", err)
	}
	first, last, lastAw := ts[0].start, ts[0].done, ts[0].awaiting
	var co []time.Duration
	over := 0
	for _, t := range ts {
		if t.done.Sub(t.fulfil) > 5*time.Second {
			over++
		}
		if t.awaiting.After(lastAw) {
			lastAw = t.awaiting
		}
		if t.start.Before(first) {
			first = t.start
		}
		if t.done.After(last) {
			last = t.done
		}
		co = append(co, t.done.Sub(t.start))
	}
	var fc []time.Duration
	for _, t := range ts {
		fc = append(fc, t.done.Sub(t.fulfil))
	}
	fmt.Printf("RESULT fulfilled_p50_ms %.1f\nRESULT fulfilled_p99_ms %.1f\n", ms(pct(fc, 50)), ms(pct(fc, 99)))
	fmt.Printf("RESULT all_awaiting_s %.2f\n", lastAw.Sub(first).Seconds())
	fmt.Printf("RESULT over5s %d\n", over)
	fmt.Printf("RESULT wall_s %.2f\nRESULT per_order_p50_ms %.1f\nRESULT per_order_p99_ms %.1f\n",
		last.Sub(first).Seconds(), ms(pct(co, 50)), ms(pct(co, 99)))
}

func cmdE2E(args []string) {
	fs := flag.NewFlagSet("e2e", flag.ExitOnError)
	n := fs.Int("n", 20, "orders")
	poll := fs.Duration("poll", 20*time.Millisecond, "status poll interval")
	fs.Parse(args)
	var ts []orderTimes
	t0 := time.Now()
	for i := 0; i < *n; i++ {
		t, err := runOrder(ident(i), *poll, true)
		if err != nil {
			die("e2e order %d: %v", i, err)
		}
		ts = append(ts, t)
	}
	total := time.Since(t0)
	saveIDs(ts)
	fmt.Printf("RESULT total_s %.3f\nRESULT per_order_ms %.1f\n", total.Seconds(), ms(total)/float64(*n))
}

func readIDs(file string) []string {
	b, err := os.ReadFile(file)
	if err != nil {
		die("%v", err)
	}
	var ids []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			ids = append(ids, l)
		}
	}
	if len(ids) == 0 {
		die("%s: no ids", file)
	}
	return ids
}

// cmdLookup: sequential lookup/order reads, the id sets interleaved request by request (so
// both see the same machine noise), ids drawn at random; a warm-up round first.
func cmdLookup(args []string) {
	fs := flag.NewFlagSet("lookup", flag.ExitOnError)
	files := fs.String("ids", "", "comma-separated id files, each FILE or FILE@VAULT_ADDR; one result per file")
	reqs := fs.Int("reqs", 2000, "requests per id set")
	warm := fs.Int("warm", 200, "warm-up requests per id set (not counted)")
	fs.Parse(args)
	names := strings.Split(*files, ",")
	sets := make([][]string, len(names))
	bases := make([]string, len(names))
	for i, f := range names {
		bases[i] = *addr
		if k := strings.Index(f, "@"); k >= 0 {
			names[i], bases[i] = f[:k], f[k+1:]
		}
		sets[i] = readIDs(names[i])
	}
	lat := make([][]time.Duration, len(sets))
	rng := mrand.New(mrand.NewSource(1))
	for r := 0; r < *warm+*reqs; r++ {
		for i, ids := range sets {
			id := ids[rng.Intn(len(ids))]
			t0 := time.Now()
			d, _, err := vaultAt(bases[i], "GET", *mount+"/lookup/order/"+id, nil)
			el := time.Since(t0)
			if err != nil {
				die("lookup: %v", err)
			}
			if str(d, "order_id") != id {
				die("lookup/order/%s answered order_id %q", id, str(d, "order_id"))
			}
			if r >= *warm {
				lat[i] = append(lat[i], el)
			}
		}
	}
	for i, f := range names {
		key := strings.TrimSuffix(filepath.Base(f), ".txt")
		fmt.Printf("RESULT %s_p50_ms %.3f\nRESULT %s_p99_ms %.3f\n", key, ms(pct(lat[i], 50)), key, ms(pct(lat[i], 99)))
	}
}

// ---- seed: copies of one stored order, written into the file backend while Vault is down.

// The SDK's physical/file backend stores key a/b/c as the file a/b/_c holding
// {"Value":"<base64 of the value>"} (physical/file/file.go: expandPath, fileEntry).
type fileEntry struct {
	Value []byte
}

func uuidv7(ms int64) string {
	var b [16]byte
	rand.Read(b[:])
	var ts [8]byte
	binary.BigEndian.PutUint64(ts[:], uint64(ms))
	copy(b[0:6], ts[2:8])
	b[6] = 0x70 | (b[6] & 0x0f)
	b[8] = 0x80 | (b[8] & 0x3f)
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func cmdSeed(args []string) {
	fs := flag.NewFlagSet("seed", flag.ExitOnError)
	mdir := fs.String("mountdir", "", "the mount's storage dir: <data>/logical/<mount uuid>")
	src := fs.String("src", "", "id of the stored order to copy")
	count := fs.Int("count", 0, "copies")
	out := fs.String("out", "", "write the new ids here")
	fs.Parse(args)
	raw, err := os.ReadFile(filepath.Join(*mdir, "order", "_"+*src))
	if err != nil {
		die("seed: %v", err)
	}
	var fe fileEntry
	if err := json.Unmarshal(raw, &fe); err != nil {
		die("seed: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(fe.Value))
	dec.UseNumber()
	var rec map[string]any
	if err := dec.Decode(&rec); err != nil {
		die("seed: order value: %v", err)
	}
	if rec["id"] != *src {
		die("seed: stored order has id %v, want %s", rec["id"], *src)
	}
	// Its order-hour index entry, copied alongside so lookup/orders* see the copies too.
	hours, _ := filepath.Glob(filepath.Join(*mdir, "order-hour", "*", "_"+*src))
	var hourRaw []byte
	hourDir := ""
	if len(hours) == 1 {
		hourDir = filepath.Dir(hours[0])
		hourRaw, _ = os.ReadFile(hours[0])
	}
	var created int64
	if n, ok := rec["creation_date"].(json.Number); ok {
		created, _ = n.Int64()
	}
	if created == 0 {
		created = time.Now().Unix()
	}
	of, err := os.Create(*out)
	if err != nil {
		die("seed: %v", err)
	}
	w := &bytes.Buffer{}
	for i := 0; i < *count; i++ {
		id := uuidv7(created*1000 + int64(i%1000))
		rec["id"] = id
		v, err := json.Marshal(rec)
		if err != nil {
			die("seed: %v", err)
		}
		b, _ := json.Marshal(fileEntry{Value: v})
		if err := os.WriteFile(filepath.Join(*mdir, "order", "_"+id), b, 0o600); err != nil {
			die("seed: %v", err)
		}
		if hourDir != "" {
			if err := os.WriteFile(filepath.Join(hourDir, "_"+id), hourRaw, 0o600); err != nil {
				die("seed: %v", err)
			}
		}
		fmt.Fprintln(w, id)
	}
	of.Write(w.Bytes())
	of.Close()
	fmt.Printf("RESULT seeded %d\n", *count)
}

// parallel runs f(i) for i < n with at most c at once; the first error.
func parallel(n, c int, f func(i int) error) error {
	errs := make([]error, n)
	sem := make(chan struct{}, c)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			errs[i] = f(i)
		}(i)
	}
	wg.Wait()
	return firstErr(errs)
}

// cmdPlace: N orders placed at once, each waited for until it awaits its challenge; the
// orders are left active and their "id ident" lines written to -out for cmdFulfil.
func cmdPlace(args []string) {
	fs := flag.NewFlagSet("place", flag.ExitOnError)
	n := fs.Int("n", 1000, "orders")
	c := fs.Int("c", 0, "orders in flight (default n)")
	poll := fs.Duration("poll", 200*time.Millisecond, "status poll interval per order")
	out := fs.String("out", "", "file for the placed orders")
	fs.Parse(args)
	if *c <= 0 {
		*c = *n
	}
	ts := make([]orderTimes, *n)
	t0 := time.Now()
	err := parallel(*n, *c, func(i int) (err error) { ts[i], err = placeOrder(ident(i), *poll); return })
	if err != nil {
		die("place: %v", err)
	}
	f, ferr := os.Create(*out)
	if ferr != nil {
		die("%v", ferr)
	}
	var last time.Time
	for _, t := range ts {
		fmt.Fprintf(f, "%s %s\n", t.id, t.ident)
		if t.awaiting.After(last) {
			last = t.awaiting
		}
	}
	f.Close()
	fmt.Printf("RESULT place_wall_s %.2f\n", last.Sub(t0).Seconds())
}

// paced runs f(i) for i < n, each in its own goroutine started at t0 + i/rate (so a slow
// one does not hold the next back); the first error.
func paced(n int, rate float64, f func(i int) error) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := 0; i < n; i++ {
		time.Sleep(time.Until(t0.Add(time.Duration(float64(i) / rate * float64(time.Second)))))
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs[i] = f(i)
		}(i)
	}
	wg.Wait()
	return firstErr(errs)
}

// inFlightMax: the most orders fulfilled (fulfilled-challenge sent) but not yet seen
// completed at one time.
func inFlightMax(ts []orderTimes) int {
	type ev struct {
		at time.Time
		d  int
	}
	var evs []ev
	for _, t := range ts {
		evs = append(evs, ev{t.fulfil, 1}, ev{t.done, -1})
	}
	// At the same instant a completion is counted before a fulfilment.
	sort.Slice(evs, func(i, j int) bool {
		if evs[i].at.Equal(evs[j].at) {
			return evs[i].d < evs[j].d
		}
		return evs[i].at.Before(evs[j].at)
	})
	n, most := 0, 0
	for _, e := range evs {
		if n += e.d; n > most {
			most = n
		}
	}
	return most
}

// cmdFulfil: fulfils every order of -in at once (or -rate a second, order i at t0 + i/rate)
// and waits for each to complete.
func cmdFulfil(args []string) {
	fs := flag.NewFlagSet("fulfil", flag.ExitOnError)
	in := fs.String("in", "", "file written by place")
	c := fs.Int("c", 0, "orders in flight (default all; ignored with -rate)")
	poll := fs.Duration("poll", 100*time.Millisecond, "status poll interval per order")
	rate := fs.Float64("rate", 0, "fulfilments started per second (0: all at once)")
	fs.Parse(args)
	b, err := os.ReadFile(*in)
	if err != nil {
		die("%v", err)
	}
	var ts []orderTimes
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if p := strings.Fields(l); len(p) == 2 {
			ts = append(ts, orderTimes{id: p[0], ident: p[1]})
		}
	}
	if *c <= 0 {
		*c = len(ts)
	}
	t0 := time.Now()
	f := func(i int) error { return fulfilOrder(&ts[i], *poll, false) }
	if *rate > 0 {
		err = paced(len(ts), *rate, f)
	} else {
		err = parallel(len(ts), *c, f)
	}
	if err != nil {
		die("fulfil: %v", err)
	}
	var fc []time.Duration
	var last time.Time
	over := 0
	for _, t := range ts {
		fc = append(fc, t.done.Sub(t.fulfil))
		if t.done.Sub(t.fulfil) > 5*time.Second {
			over++
		}
		if t.done.After(last) {
			last = t.done
		}
	}
	fmt.Printf("RESULT fulfil_wall_s %.2f\nRESULT over5s %d\n", last.Sub(t0).Seconds(), over)
	fmt.Printf("RESULT fulfilled_p50_ms %.1f\nRESULT fulfilled_p99_ms %.1f\n", ms(pct(fc, 50)), ms(pct(fc, 99)))
	fmt.Printf("RESULT rate_per_s %g\nRESULT in_flight_max %d\n", *rate, inFlightMax(ts))
}

func main() {
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: orderload [flags] latency|concurrent|e2e|place|fulfil|lookup|seed [flags]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() < 1 {
		flag.Usage()
		os.Exit(2)
	}
	cmd, rest := flag.Arg(0), flag.Args()[1:]
	if cmd != "seed" && (*addr == "" || *token == "") {
		die("-addr and -token (or VAULT_ADDR, VAULT_TOKEN) are needed")
	}
	switch cmd {
	case "latency":
		cmdLatency(rest)
	case "concurrent":
		cmdConcurrent(rest)
	case "e2e":
		cmdE2E(rest)
	case "place":
		cmdPlace(rest)
	case "fulfil":
		cmdFulfil(rest)
	case "lookup":
		cmdLookup(rest)
	case "seed":
		cmdSeed(rest)
	default:
		flag.Usage()
		os.Exit(2)
	}
}

// firstErr: the first order's error of a run, naming the order; nil when all succeeded.
func firstErr(errs []error) error {
	for i, err := range errs {
		if err != nil {
			return fmt.Errorf("order %d: %v", i, err)
		}
	}
	return nil
}
