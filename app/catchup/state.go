package catchup

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// StateFileName is the catch-up state file in the cache directory.
const StateFileName = "catchup.json"

// State remembers, per account, the server's created_at of the newest
// notification seen, the point the next catch-up starts from (less an
// overlap). It is a small JSON file written atomically; the core and
// `echotray watch` may share it.
type State struct {
	path string
	mu   sync.Mutex
}

// stateFile is the file's content.
type stateFile struct {
	Accounts map[string]accountState `json:"accounts"`
}

type accountState struct {
	// Since is the server's created_at of the newest notification seen,
	// or the server's clock at a catch-up that found none.
	Since time.Time `json:"since"`
}

// NewState uses the file at path (created on the first Save).
func NewState(path string) *State { return &State{path: path} }

// Since returns the account's starting point; ok is false when no
// catch-up ever ran for it.
func (s *State) Since(account string) (since time.Time, ok bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.read()
	if err != nil {
		return time.Time{}, false, err
	}
	a, ok := f.Accounts[account]
	return a.Since, ok && !a.Since.IsZero(), nil
}

// Advance moves the account's starting point to since, never back.
func (s *State) Advance(account string, since time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.read()
	if err != nil {
		f = stateFile{} // a damaged file is replaced
	}
	if f.Accounts == nil {
		f.Accounts = map[string]accountState{}
	}
	if cur := f.Accounts[account].Since; !cur.IsZero() && !since.After(cur) {
		return nil
	}
	f.Accounts[account] = accountState{Since: since.UTC()}
	b, _ := json.MarshalIndent(f, "", "  ")
	return writeAtomic(s.path, b)
}

// Forget removes the account (its history was removed).
func (s *State) Forget(account string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.read()
	if err != nil || f.Accounts == nil {
		return nil
	}
	if _, ok := f.Accounts[account]; !ok {
		return nil
	}
	delete(f.Accounts, account)
	b, _ := json.MarshalIndent(f, "", "  ")
	return writeAtomic(s.path, b)
}

func (s *State) read() (stateFile, error) {
	var f stateFile
	b, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return f, fmt.Errorf("catchup: read %s: %w", s.path, err)
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return stateFile{}, fmt.Errorf("catchup: %s is damaged: %w", s.path, err)
	}
	return f, nil
}

// writeAtomic replaces path with data (a temporary file renamed over it).
func writeAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("catchup: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("catchup: %w", err)
	}
	name := tmp.Name()
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(name)
		return fmt.Errorf("catchup: write %s: %w", path, err)
	}
	if err := os.Rename(name, path); err != nil {
		os.Remove(name)
		return fmt.Errorf("catchup: %w", err)
	}
	return nil
}
