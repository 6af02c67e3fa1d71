package app

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/zalando/go-keyring"
)

// KeyringService is the service name the token is stored under.
const KeyringService = "echotray"

// DefaultKeyringTimeout bounds every keyring call: a locked keyring waiting
// for a password prompt, or a hung Secret Service, must not hang the app.
const DefaultKeyringTimeout = 10 * time.Second

// probeAccount is looked up (never written) to check the keyring works.
const probeAccount = "echotray-availability-probe"

var (
	// ErrSecretNotFound means no token is stored for the account.
	ErrSecretNotFound = errors.New("no token is stored")
	// ErrKeyringUnavailable means the system keyring cannot be used: no
	// Secret Service, locked, or not answering in time. Match it with
	// errors.Is; the *KeyringError says why.
	ErrKeyringUnavailable = errors.New("the system keyring is unavailable")
)

// KeyringError is a failed keyring call.
type KeyringError struct {
	Op          string // "read", "store", "delete"
	Unavailable bool   // the keyring itself cannot be used
	Err         error  // the reason
}

// Error says what failed and why, in words.
func (e *KeyringError) Error() string {
	if e.Unavailable {
		return fmt.Sprintf("the system keyring is unavailable (%s the token: %v)", e.Op, e.Err)
	}
	return fmt.Sprintf("cannot %s the token in the system keyring: %v", e.Op, e.Err)
}

// Unwrap returns the reason.
func (e *KeyringError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrKeyringUnavailable) true for an unusable keyring.
func (e *KeyringError) Is(target error) bool {
	return target == ErrKeyringUnavailable && e.Unavailable
}

// Secrets stores the API token per account.
type Secrets interface {
	// Get returns the secret, or an error matching ErrSecretNotFound.
	Get(account string) (string, error)
	// Set stores the secret, replacing any previous one.
	Set(account, secret string) error
	// Delete removes the secret; a missing secret is not an error.
	Delete(account string) error
}

// KeyringSecrets keeps secrets in the OS keyring through go-keyring (the
// Secret Service on Linux, the Keychain on macOS, the Credential Manager on
// Windows), under the service KeyringService. Every call runs in its own
// goroutine and is abandoned after the timeout; calls are serialized, so a
// hung call makes the following ones fail fast instead of piling up.
type KeyringSecrets struct {
	service string
	timeout time.Duration
	sem     chan struct{}
	backend keyringBackend
}

// keyringBackend is the go-keyring API; tests replace it to simulate a
// keyring that hangs.
type keyringBackend interface {
	Get(service, user string) (string, error)
	Set(service, user, password string) error
	Delete(service, user string) error
}

// goKeyring calls the go-keyring package functions, so keyring.MockInit
// works in tests.
type goKeyring struct{}

func (goKeyring) Get(service, user string) (string, error) { return keyring.Get(service, user) }
func (goKeyring) Set(service, user, pw string) error       { return keyring.Set(service, user, pw) }
func (goKeyring) Delete(service, user string) error        { return keyring.Delete(service, user) }

// NewKeyringSecrets returns the OS keyring with the given timeout per call
// (0 means DefaultKeyringTimeout).
func NewKeyringSecrets(timeout time.Duration) *KeyringSecrets {
	if timeout <= 0 {
		timeout = DefaultKeyringTimeout
	}
	return &KeyringSecrets{service: KeyringService, timeout: timeout, sem: make(chan struct{}, 1), backend: goKeyring{}}
}

// Get returns the token stored for account.
func (k *KeyringSecrets) Get(account string) (string, error) {
	return k.call("read", func() (string, error) { return k.backend.Get(k.service, account) })
}

// Set stores the token for account.
func (k *KeyringSecrets) Set(account, secret string) error {
	_, err := k.call("store", func() (string, error) { return "", k.backend.Set(k.service, account, secret) })
	return err
}

// Delete removes the token stored for account, if any.
func (k *KeyringSecrets) Delete(account string) error {
	_, err := k.call("delete", func() (string, error) { return "", k.backend.Delete(k.service, account) })
	if errors.Is(err, ErrSecretNotFound) {
		return nil
	}
	return err
}

// Probe checks that the keyring answers, by reading an account that is
// never written. It returns nil or an error matching ErrKeyringUnavailable.
func (k *KeyringSecrets) Probe() error {
	_, err := k.Get(probeAccount)
	if err == nil || errors.Is(err, ErrSecretNotFound) {
		return nil
	}
	return err
}

// call runs fn with the timeout and classifies its error.
func (k *KeyringSecrets) call(op string, fn func() (string, error)) (string, error) {
	timer := time.NewTimer(k.timeout)
	defer timer.Stop()
	select {
	case k.sem <- struct{}{}:
	case <-timer.C:
		return "", &KeyringError{Op: op, Unavailable: true,
			Err: fmt.Errorf("an earlier keyring call has not returned after %s; the keyring may be locked", k.timeout)}
	}
	type result struct {
		v   string
		err error
	}
	done := make(chan result, 1)
	go func() {
		// This goroutine outlives a timed-out call; it frees the slot
		// when go-keyring finally returns.
		defer func() { <-k.sem }()
		// go-keyring can panic (a nil prompt in handlePrompt when the
		// Secret Service goes away while it asks for a password): that is
		// an unavailable keyring, not a reason to take the app down.
		defer func() {
			if p := recover(); p != nil {
				done <- result{"", fmt.Errorf("the keyring library failed: %v", p)}
			}
		}()
		v, err := fn()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, classifyKeyringError(op, r.err)
	case <-timer.C:
		return "", &KeyringError{Op: op, Unavailable: true,
			Err: fmt.Errorf("no answer within %s; the keyring may be locked and waiting for a password", k.timeout)}
	}
}

// classifyKeyringError maps go-keyring's errors onto ours.
func classifyKeyringError(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, keyring.ErrNotFound):
		return ErrSecretNotFound
	case errors.Is(err, keyring.ErrSetDataTooBig):
		return &KeyringError{Op: op, Err: errors.New("the token is too large for this keyring")}
	}
	reason := err.Error()
	if strings.Contains(reason, "org.freedesktop.secrets") || strings.Contains(reason, "ServiceUnknown") {
		err = fmt.Errorf("no Secret Service is running; install and start gnome-keyring or KeePassXC (%w)", err)
	} else if strings.Contains(reason, "DBUS_SESSION_BUS_ADDRESS") || strings.Contains(reason, "dbus") && strings.Contains(reason, "connect") {
		err = fmt.Errorf("no D-Bus session bus (%w)", err)
	}
	return &KeyringError{Op: op, Unavailable: true, Err: err}
}

// MemorySecrets keeps secrets in memory only: a session-only sign-in whose
// token is gone when the app quits. It is safe for concurrent use.
type MemorySecrets struct {
	mu sync.Mutex
	m  map[string]string
}

// NewMemorySecrets returns an empty in-memory secret store.
func NewMemorySecrets() *MemorySecrets {
	return &MemorySecrets{m: make(map[string]string)}
}

// Get returns the secret for account.
func (m *MemorySecrets) Get(account string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.m[account]
	if !ok {
		return "", ErrSecretNotFound
	}
	return v, nil
}

// Set stores the secret for account.
func (m *MemorySecrets) Set(account, secret string) error {
	m.mu.Lock()
	m.m[account] = secret
	m.mu.Unlock()
	return nil
}

// Delete forgets the secret for account.
func (m *MemorySecrets) Delete(account string) error {
	m.mu.Lock()
	delete(m.m, account)
	m.mu.Unlock()
	return nil
}
