package app

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/zalando/go-keyring"
)

func TestKeyringSecretsRoundTrip(t *testing.T) {
	keyring.MockInit()
	k := NewKeyringSecrets(0)
	if _, err := k.Get("tina@example.com"); !errors.Is(err, ErrSecretNotFound) {
		t.Fatalf("empty keyring Get err = %v, want ErrSecretNotFound", err)
	}
	if err := k.Probe(); err != nil {
		t.Fatalf("Probe = %v", err)
	}
	if err := k.Set("tina@example.com", "tok-1"); err != nil {
		t.Fatal(err)
	}
	// Stored under the service "echotray" with the e-mail as account.
	if v, err := keyring.Get("echotray", "tina@example.com"); err != nil || v != "tok-1" {
		t.Fatalf("go-keyring has %q, %v", v, err)
	}
	if v, err := k.Get("tina@example.com"); err != nil || v != "tok-1" {
		t.Fatalf("Get = %q, %v", v, err)
	}
	if err := k.Delete("tina@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := k.Delete("tina@example.com"); err != nil {
		t.Fatalf("deleting a missing token must not fail: %v", err)
	}
	if _, err := keyring.Get("echotray", "tina@example.com"); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("token still stored: %v", err)
	}
}

func TestKeyringUnavailable(t *testing.T) {
	keyring.MockInitWithError(errors.New("The name org.freedesktop.secrets was not provided by any .service files"))
	defer keyring.MockInit()
	k := NewKeyringSecrets(0)
	for name, err := range map[string]error{
		"probe": k.Probe(),
		"set":   k.Set("a", "b"),
		"del":   k.Delete("a"),
	} {
		if !errors.Is(err, ErrKeyringUnavailable) {
			t.Errorf("%s: err = %v, want ErrKeyringUnavailable", name, err)
			continue
		}
		if !strings.Contains(err.Error(), "no Secret Service is running") {
			t.Errorf("%s: reason missing from %q", name, err)
		}
	}
}

func TestKeyringTooBigIsNotUnavailable(t *testing.T) {
	keyring.MockInitWithError(keyring.ErrSetDataTooBig)
	defer keyring.MockInit()
	err := NewKeyringSecrets(0).Set("a", "b")
	if err == nil || errors.Is(err, ErrKeyringUnavailable) || !strings.Contains(err.Error(), "too large") {
		t.Fatalf("err = %v", err)
	}
}

// hangingKeyring never answers until released, like a locked keyring
// waiting for a password prompt.
type hangingKeyring struct{ release chan struct{} }

func (h hangingKeyring) Get(string, string) (string, error) {
	<-h.release
	return "", keyring.ErrNotFound
}
func (h hangingKeyring) Set(string, string, string) error { <-h.release; return nil }
func (h hangingKeyring) Delete(string, string) error      { <-h.release; return nil }

func TestKeyringTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := hangingKeyring{release: make(chan struct{})}
		k := NewKeyringSecrets(10 * time.Second)
		k.backend = h
		start := time.Now()
		err := k.Set("a", "tok")
		if !errors.Is(err, ErrKeyringUnavailable) || !strings.Contains(err.Error(), "no answer within 10s") {
			t.Fatalf("err = %v", err)
		}
		if d := time.Since(start); d != 10*time.Second {
			t.Errorf("gave up after %v, want 10s", d)
		}
		// The hung call still holds the slot: the next call fails fast
		// (after one more timeout) instead of piling up goroutines.
		if _, err := k.Get("a"); !errors.Is(err, ErrKeyringUnavailable) || !strings.Contains(err.Error(), "earlier keyring call") {
			t.Fatalf("second call err = %v", err)
		}
		close(h.release)
		synctest.Wait()
		if _, err := k.Get("a"); !errors.Is(err, ErrSecretNotFound) {
			t.Fatalf("after release err = %v", err)
		}
	})
}

func TestMemorySecrets(t *testing.T) {
	m := NewMemorySecrets()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() { _ = m.Set("a", string(rune('a'+i))) })
	}
	wg.Wait()
	if _, err := m.Get("a"); err != nil {
		t.Fatal(err)
	}
	_ = m.Delete("a")
	if _, err := m.Get("a"); !errors.Is(err, ErrSecretNotFound) {
		t.Fatalf("err = %v", err)
	}
}

// panickingKeyring fails the way go-keyring v0.2.8 does when the Secret
// Service disappears while it waits on an unlock prompt.
type panickingKeyring struct{}

func (panickingKeyring) Get(string, string) (string, error) { panic("nil pointer in handlePrompt") }
func (panickingKeyring) Set(string, string, string) error   { panic("nil pointer in handlePrompt") }
func (panickingKeyring) Delete(string, string) error        { panic("nil pointer in handlePrompt") }

func TestKeyringPanicIsUnavailable(t *testing.T) {
	k := NewKeyringSecrets(time.Second)
	k.backend = panickingKeyring{}
	for name, call := range map[string]func() error{
		"get":    func() error { _, err := k.Get("a"); return err },
		"set":    func() error { return k.Set("a", "tok") },
		"delete": func() error { return k.Delete("a") },
	} {
		err := call()
		if !errors.Is(err, ErrKeyringUnavailable) || !strings.Contains(err.Error(), "handlePrompt") {
			t.Errorf("%s: err = %v, want an unavailable keyring naming the failure", name, err)
		}
	}
}
