package realtime

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func TestConfigValidationAndURL(t *testing.T) {
	for _, bad := range []Config{
		{},
		{Key: "k"},
		{Key: "a/b", Host: "h"},
		{Key: "k", Host: "h", Port: 70000},
		{Key: "k", Host: "h", CAFile: "/does/not/exist.pem"},
	} {
		if _, err := newSettings(bad); err == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
	cases := []struct {
		cfg    Config
		tls    bool
		prefix string
	}{
		{Config{Key: "k", Host: "h"}, false, "ws://h:80/app/k?"},
		{Config{Key: "k", Host: "h", TLS: true}, true, "wss://h:443/app/k?"},
		{Config{Key: "k", Host: "h", Port: 6001, Path: "/ws/"}, false, "ws://h:6001/ws/app/k?"},
		{Config{Key: "k", Cluster: "eu"}, true, "wss://ws-eu.pusher.com:443/app/k?"},
		{Config{Key: "k", Host: "h", Port: 80}, true, "wss://h:443/app/k?"},    // switched by 4000
		{Config{Key: "k", Host: "h", Port: 6001}, true, "wss://h:6001/app/k?"}, // explicit port kept
		{Config{Key: "k", Host: "::1", Port: 6001}, false, "ws://[::1]:6001/app/k?"},
	}
	for _, c := range cases {
		s, err := newSettings(c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		u := s.url(c.tls)
		if !strings.HasPrefix(u, c.prefix) {
			t.Errorf("url = %s, want prefix %s", u, c.prefix)
		}
		q, _ := url.Parse(u)
		if q.Query().Get("protocol") != "7" || q.Query().Get("client") == "" || q.Query().Get("version") == "" {
			t.Errorf("query of %s", u)
		}
	}
	s, _ := newSettings(Config{Key: "k", Host: "h"})
	if s.MaxFrameBytes != DefaultMaxFrameBytes || s.ActivityTimeout != DefaultActivityTimeout ||
		s.PongTimeout != DefaultPongTimeout || s.Namespace != DefaultNamespace || s.Backoff == nil || s.Proxy == nil {
		t.Errorf("defaults not applied: %+v", s.Config)
	}
}

// testCA is a throw-away certificate authority and a server certificate
// for soketi.test signed by it.
type testCA struct {
	caPEM  []byte
	server tls.Certificate
}

func newTestCA(t testing.TB) *testCA {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "EchoTray test CA"},
		NotBefore: certNotBefore, NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	srvKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	srvTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "soketi.test"},
		DNSNames:  []string{"soketi.test", "direct.test"},
		NotBefore: certNotBefore, NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, ca, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{
		caPEM:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		server: tls.Certificate{Certificate: [][]byte{srvDER}, PrivateKey: srvKey},
	}
}

func (ca *testCA) file(t testing.TB) string {
	p := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(p, ca.caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestWSSWithCustomCAFile(t *testing.T) {
	ca := newTestCA(t)
	caFile := ca.file(t)
	if err := os.WriteFile(filepath.Join(t.TempDir(), "x"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	badFile := filepath.Join(t.TempDir(), "bad.pem")
	os.WriteFile(badFile, []byte("not a certificate"), 0o600)
	if _, err := New(Config{Key: "k", Host: "h", CAFile: badFile}); err == nil {
		t.Fatal("accepted a CA file without certificates")
	}
	synctest.Test(t, func(t *testing.T) {
		s := newFakeServer(t)
		s.tlsConfig = &tls.Config{Certificates: []tls.Certificate{ca.server}}

		// Without the CA the system roots refuse the certificate.
		r1 := newRecorder()
		cfg := testConfig(s, r1)
		cfg.TLS = true
		c1, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		c1.Connect()
		sc := r1.waitState(t, StateUnavailable, 10*time.Second)
		var uae x509.UnknownAuthorityError
		if !errors.As(sc.Err, &uae) {
			t.Fatalf("without CA: %v", sc.Err)
		}
		c1.Close()

		r2 := newRecorder()
		cfg = testConfig(s, r2)
		cfg.TLS = true
		cfg.CAFile = caFile
		c2 := newTestClient(t, s, cfg)
		c2.Subscribe("a")
		c2.Connect()
		fc := s.next(t, 10*time.Second)
		r2.waitSub(t, "a", SubscriptionSubscribed, time.Second)
		if fc.req.URL.Path != "/app/"+testKey {
			t.Fatalf("path %s", fc.req.URL.Path)
		}
		s.mu.Lock()
		last := s.dials[len(s.dials)-1]
		s.mu.Unlock()
		if last != "soketi.test:6001" {
			t.Fatalf("dialled %s", last)
		}
	})
}

// connectProxy is a minimal HTTP CONNECT proxy on loopback TCP that splices
// to the fake server.
type connectProxy struct {
	ln      net.Listener
	target  func(ctx context.Context, network, addr string) (net.Conn, error)
	mu      sync.Mutex
	targets []string
	wg      sync.WaitGroup
}

func startConnectProxy(t testing.TB, target func(ctx context.Context, network, addr string) (net.Conn, error)) *connectProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &connectProxy{ln: ln, target: target}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Add(1)
			go p.handle(c)
		}
	}()
	return p
}

func (p *connectProxy) handle(c net.Conn) {
	defer p.wg.Done()
	defer c.Close()
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil || req.Method != http.MethodConnect {
		return
	}
	p.mu.Lock()
	p.targets = append(p.targets, req.Host)
	p.mu.Unlock()
	up, err := p.target(context.Background(), "tcp", req.Host)
	if err != nil {
		io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\n\r\n")
		return
	}
	defer up.Close()
	io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
	done := make(chan struct{}, 2)
	go func() { io.Copy(up, br); up.Close(); done <- struct{}{} }()
	go func() { io.Copy(c, up); c.Close(); done <- struct{}{} }()
	<-done
	<-done
}

func (p *connectProxy) close() {
	p.ln.Close()
	p.wg.Wait()
}

func (p *connectProxy) seen() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.targets...)
}

func TestExplicitProxy(t *testing.T) {
	s := newFakeServer(t)
	p := startConnectProxy(t, s.dial)
	r := newRecorder()
	cfg := testConfig(s, r)
	cfg.NetDialContext = nil // real TCP to the proxy
	proxyURL, _ := url.Parse("http://" + p.ln.Addr().String())
	cfg.Proxy = http.ProxyURL(proxyURL)
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.Subscribe("a")
	c.Connect()
	r.waitSub(t, "a", SubscriptionSubscribed, 10*time.Second)
	c.Close()
	s.close()
	p.close()
	if got := p.seen(); len(got) != 1 || got[0] != "soketi.test:6001" {
		t.Fatalf("proxy saw %v", got)
	}
}

// TestProxyFromEnvironment runs in a child process because
// http.ProxyFromEnvironment reads the environment only once per process.
func TestProxyFromEnvironment(t *testing.T) {
	if os.Getenv("REALTIME_PROXY_CHILD") == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestProxyFromEnvironment$", "-test.count=1")
		cmd.Env = append(os.Environ(), "REALTIME_PROXY_CHILD=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "PASS") {
			t.Fatalf("child: %v\n%s", err, out)
		}
		return
	}
	ca := newTestCA(t)
	s := newFakeServer(t)
	s.tlsConfig = &tls.Config{Certificates: []tls.Certificate{ca.server}}
	p := startConnectProxy(t, s.dial)
	defer p.close()
	defer s.close()
	proxyAddr := p.ln.Addr().String()
	t.Setenv("HTTPS_PROXY", "http://"+proxyAddr)
	t.Setenv("NO_PROXY", "direct.test")
	var mu sync.Mutex
	var direct []string
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr == proxyAddr {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}
		mu.Lock()
		direct = append(direct, addr)
		mu.Unlock()
		return s.dial(ctx, network, addr)
	}
	for _, host := range []string{"soketi.test", "direct.test"} {
		r := newRecorder()
		c, err := New(Config{Key: testKey, Host: host, TLS: true, CAFile: ca.file(t), NetDialContext: dial,
			OnStateChange: func(sc StateChange) { r.stateCh <- sc }})
		if err != nil {
			t.Fatal(err)
		}
		c.Connect()
		r.waitState(t, StateConnected, 10*time.Second)
		c.Close()
	}
	if got := p.seen(); len(got) != 1 || got[0] != "soketi.test:443" {
		t.Fatalf("proxy saw %v, want only soketi.test:443", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(direct) != 1 || direct[0] != "direct.test:443" {
		t.Fatalf("direct dials %v, want direct.test:443 (NO_PROXY)", direct)
	}
}

// certNotBefore predates synctest's fake clock (2000-01-01).
var certNotBefore = time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC)
