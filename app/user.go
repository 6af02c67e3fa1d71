package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// RoleSystemAdmin is the role name of a platform-wide administrator.
const RoleSystemAdmin = "system_admin"

// Channel names the roles subscribe to, with Echo's "private-" prefix for
// private channels.
const (
	channelTenantPrefix = "tenant."
	channelUserPrefix   = "private-user."
	ChannelSystemAdmin  = "private-system.admin" // system administrators only
)

// User is the signed-in user as the Laravel backend describes it.
type User struct {
	ID       string `json:"id"`        // a number or a string on the wire
	Name     string `json:"name"`      // display name
	Email    string `json:"email"`     // sign-in e-mail address
	TenantID string `json:"tenant_id"` // empty for users outside any tenant
	Role     string `json:"role"`      // e.g. "tenant_admin", "system_admin"
}

// UnmarshalJSON accepts id and tenant_id as numbers or strings, and
// tenant_id as null or absent.
func (u *User) UnmarshalJSON(b []byte) error {
	var raw struct {
		ID       json.RawMessage `json:"id"`
		Name     string          `json:"name"`
		Email    string          `json:"email"`
		TenantID json.RawMessage `json:"tenant_id"`
		Role     string          `json:"role"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	id, err := flexibleID(raw.ID)
	if err != nil {
		return fmt.Errorf("user id: %w", err)
	}
	tenant, err := flexibleID(raw.TenantID)
	if err != nil {
		return fmt.Errorf("user tenant_id: %w", err)
	}
	*u = User{ID: id, Name: raw.Name, Email: raw.Email, TenantID: tenant, Role: raw.Role}
	return nil
}

// flexibleID turns a JSON number, string or null into a string ID.
func flexibleID(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return "", nil
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
		return strings.TrimSpace(s), nil
	default:
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			return "", fmt.Errorf("want a number or a string, got %s", truncate(string(raw), 40))
		}
		if i, err := n.Int64(); err == nil {
			return strconv.FormatInt(i, 10), nil
		}
		return n.String(), nil
	}
}

// IsSystemAdmin reports whether the user administers the whole platform:
// no tenant, or the system_admin role.
func (u User) IsSystemAdmin() bool {
	return u.TenantID == "" || u.Role == RoleSystemAdmin
}

// Channels returns the channels the user's role subscribes to: tenant staff
// get their tenant's channel and their private user channel, system
// administrators the system admin channel and their private user channel.
func (u User) Channels() []string {
	user := channelUserPrefix + u.ID
	if u.IsSystemAdmin() {
		return []string{ChannelSystemAdmin, user}
	}
	return []string{channelTenantPrefix + u.TenantID, user}
}

// RoleText describes the user's role in words: "system admin" or
// "tenant 7".
func (u User) RoleText() string {
	if u.IsSystemAdmin() {
		return "system admin"
	}
	if u.Role != "" {
		return fmt.Sprintf("%s, tenant %s", strings.ReplaceAll(u.Role, "_", " "), u.TenantID)
	}
	return "tenant " + u.TenantID
}

// String describes the user for people: "Ann <ann@example.com> (system admin)".
func (u User) String() string {
	name := u.Name
	if name == "" {
		name = "user " + u.ID
	}
	if u.Email != "" {
		name += " <" + u.Email + ">"
	}
	return name + " (" + u.RoleText() + ")"
}

// validate checks that a user from the backend can be subscribed.
func (u User) validate() error {
	if u.ID == "" {
		return fmt.Errorf("the server's user has no id")
	}
	return nil
}

// truncate shortens s to at most n bytes, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
