package app

import (
	"encoding/json"
	"slices"
	"testing"
)

func TestUserUnmarshalIDs(t *testing.T) {
	tests := []struct {
		name, in   string
		id, tenant string
		wantErr    bool
	}{
		{"numbers", `{"id":5,"tenant_id":7}`, "5", "7", false},
		{"strings", `{"id":"5","tenant_id":"7"}`, "5", "7", false},
		{"null tenant", `{"id":5,"tenant_id":null}`, "5", "", false},
		{"no tenant", `{"id":5}`, "5", "", false},
		{"uuid strings", `{"id":"9b1c-aa","tenant_id":"t-1"}`, "9b1c-aa", "t-1", false},
		{"big number", `{"id":12345678901234}`, "12345678901234", "", false},
		{"object id", `{"id":{"x":1}}`, "", "", true},
		{"bool tenant", `{"id":1,"tenant_id":true}`, "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var u User
			err := json.Unmarshal([]byte(tt.in), &u)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err == nil && (u.ID != tt.id || u.TenantID != tt.tenant) {
				t.Errorf("got id %q tenant %q, want %q %q", u.ID, u.TenantID, tt.id, tt.tenant)
			}
		})
	}
}

func TestUserChannelsByRole(t *testing.T) {
	tests := []struct {
		name string
		u    User
		want []string
	}{
		{"tenant staff", User{ID: "5", TenantID: "7", Role: "tenant_admin"}, []string{"tenant.7", "private-user.5"}},
		{"staff without role", User{ID: "6", TenantID: "7"}, []string{"tenant.7", "private-user.6"}},
		{"system admin without tenant", User{ID: "1", Role: "system_admin"}, []string{"private-system.admin", "private-user.1"}},
		{"no tenant, other role", User{ID: "2", Role: "support"}, []string{"private-system.admin", "private-user.2"}},
		{"system_admin role with a tenant", User{ID: "3", TenantID: "9", Role: "system_admin"}, []string{"private-system.admin", "private-user.3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.u.Channels(); !slices.Equal(got, tt.want) {
				t.Errorf("Channels() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestUserString(t *testing.T) {
	u := User{ID: "5", Name: "Tina", Email: "tina@example.com", TenantID: "7", Role: "tenant_admin"}
	if got, want := u.String(), "Tina <tina@example.com> (tenant admin, tenant 7)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	a := User{ID: "1", Name: "Ada", Role: "system_admin"}
	if got, want := a.String(), "Ada (system admin)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
