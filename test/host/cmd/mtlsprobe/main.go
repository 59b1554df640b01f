// mtlsprobe: launches a plugin with a known AutoMTLS client certificate and
// calls grpc.health.v1 on its socket three ways: with that certificate (must
// work: the positive control), with none and with a foreign one (both must be
// refused). Prints one JSON line; exits 1 unless all three behave.
//
//	mtlsprobe build/vault-plugin-kv-test
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/pkiext/devvault/internal/plugenv"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: mtlsprobe PLUGIN")
		os.Exit(2)
	}
	certPEM, hostCert, err := plugenv.NewCert()
	must(err)
	_, foreign, err := plugenv.NewCert()
	must(err)
	cmd, hs, _, err := plugenv.Start(os.Args[1], plugenv.Env(certPEM))
	must(err)
	defer plugenv.Stop(cmd)
	if hs.ServerCert == nil {
		must(fmt.Errorf("handshake line carries no server certificate"))
	}
	res := map[string]string{
		"host_cert":    probe(hs, &hostCert),
		"no_cert":      probe(hs, nil),
		"foreign_cert": probe(hs, &foreign),
	}
	json.NewEncoder(os.Stdout).Encode(res)
	if res["host_cert"] != "SERVING" || res["no_cert"] == "SERVING" || res["foreign_cert"] == "SERVING" {
		os.Exit(1)
	}
}

// probe returns the health status, or the error that refused the call.
func probe(hs *plugenv.Handshake, cert *tls.Certificate) string {
	pool := x509.NewCertPool()
	pool.AddCert(hs.ServerCert)
	cfg := &tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS12}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	conn, err := grpc.NewClient("passthrough:///plugin",
		grpc.WithTransportCredentials(credentials.NewTLS(cfg)),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, hs.Network, hs.Addr)
		}))
	if err != nil {
		return "refused: " + err.Error()
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: "plugin"})
	if err != nil {
		return "refused: " + err.Error()
	}
	return r.Status.String()
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "mtlsprobe:", err)
		os.Exit(1)
	}
}
