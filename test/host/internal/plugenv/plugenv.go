// Package plugenv launches a plugin binary by hand the way a Vault ≥ 1.12 host
// does (magic cookie, protocol 5, AutoMTLS client certificate), for the tools
// that need a plugin without dev-vault in between (cold start, mTLS probes).
package plugenv

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"os"
	"os/exec"
	"strings"
	"time"
)

// NewCert makes a one-time self-signed certificate shaped like go-plugin's
// AutoMTLS client certificate.
func NewCert() (certPEM string, pair tls.Certificate, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	if err != nil {
		return "", pair, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "localhost", Organization: []string{"HashiCorp"}},
		DNSNames:     []string{"localhost"}, NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
		IsCA:        true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", pair, err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// Env is the environment the host gives the plugin.
func Env(clientCertPEM string) []string {
	return append(os.Environ(),
		"VAULT_BACKEND_PLUGIN=6669da05-b1c8-4f49-97d9-c8e5bed98e20",
		"PLUGIN_PROTOCOL_VERSIONS=5", "PLUGIN_MIN_PORT=10000", "PLUGIN_MAX_PORT=25000",
		"PLUGIN_CLIENT_CERT="+clientCertPEM, "VAULT_PLUGIN_AUTOMTLS_ENABLED=true",
		"VAULT_PLUGIN_METADATA_MODE=false", "VAULT_VERSION=2.0.0")
}

// Handshake is the parsed go-plugin handshake line.
type Handshake struct {
	Network, Addr string
	ServerCert    *x509.Certificate
}

// Start execs bin and reads its handshake line; the caller kills cmd.
func Start(bin string, env []string) (*exec.Cmd, *Handshake, time.Duration, error) {
	cmd := exec.Command(bin)
	cmd.Env = env
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, 0, err
	}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, nil, 0, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	d := time.Since(t0)
	go io.Copy(io.Discard, out) // later stdout is discarded, as go-plugin does
	f := strings.Split(strings.TrimSpace(line), "|")
	if err != nil || len(f) < 6 || f[0] != "1" || f[1] != "5" {
		Stop(cmd)
		return nil, nil, d, fmt.Errorf("no handshake line from %s: %q %v", bin, line, err)
	}
	h := &Handshake{Network: f[2], Addr: f[3]}
	if der, err := base64.RawStdEncoding.DecodeString(f[5]); err == nil {
		h.ServerCert, _ = x509.ParseCertificate(der)
	}
	return cmd, h, d, nil
}

// Stop kills the plugin and reaps it.
func Stop(cmd *exec.Cmd) {
	cmd.Process.Kill()
	cmd.Wait()
}
