package laravel

import "time"

// Roles a seeded user can have.
const (
	RoleTenantAdmin = "tenant_admin" // tenant staff who administer their tenant
	RoleStaff       = "staff"        // other tenant staff
	RoleSystemAdmin = "system_admin" // platform operators; no tenant
)

// DefaultPassword is the password of every DefaultUsers user.
const DefaultPassword = "password"

// User is a backend user. Password is the plain-text password the stand-in
// accepts at login; it never appears in an answer.
type User struct {
	ID       int64
	Name     string
	Email    string
	Password string
	TenantID *int64 // nil for system admins
	Role     string // RoleTenantAdmin, RoleStaff or RoleSystemAdmin
}

// IsSystemAdmin reports whether u may join private-system.admin: role
// system_admin, or no tenant at all (the platform's convention).
func (u User) IsSystemAdmin() bool {
	return u.Role == RoleSystemAdmin || u.TenantID == nil
}

// Tenant returns the user's tenant id and whether there is one.
func (u User) Tenant() (int64, bool) {
	if u.TenantID == nil {
		return 0, false
	}
	return *u.TenantID, true
}

// seedTime is the fixed created_at/updated_at of the seeded users.
var seedTime = time.Date(2025, 12, 3, 9, 0, 0, 0, time.UTC)

// DefaultUsers returns the seeded users, all with password "password":
//
//	id  name            email                 tenant  role
//	1   Alice Wanjiru   alice@tenant1.test    1       tenant_admin
//	2   Bob Otieno      bob@tenant2.test      2       tenant_admin
//	3   System Admin    admin@echotray.test   none    system_admin
//	4   Carol Muthoni   carol@tenant1.test    1       staff
//
// Each call returns fresh copies.
func DefaultUsers() []User {
	t1, t2 := int64(1), int64(2)
	return []User{
		{ID: 1, Name: "Alice Wanjiru", Email: "alice@tenant1.test", Password: DefaultPassword, TenantID: &t1, Role: RoleTenantAdmin},
		{ID: 2, Name: "Bob Otieno", Email: "bob@tenant2.test", Password: DefaultPassword, TenantID: &t2, Role: RoleTenantAdmin},
		{ID: 3, Name: "System Admin", Email: "admin@echotray.test", Password: DefaultPassword, Role: RoleSystemAdmin},
		{ID: 4, Name: "Carol Muthoni", Email: "carol@tenant1.test", Password: DefaultPassword, TenantID: &t1, Role: RoleStaff},
	}
}

// userJSON is the user object the API answers (Laravel's User::toArray with
// the password hidden).
type userJSON struct {
	ID              int64  `json:"id"`
	Name            string `json:"name"`
	Email           string `json:"email"`
	TenantID        *int64 `json:"tenant_id"`
	Role            string `json:"role"`
	EmailVerifiedAt string `json:"email_verified_at"`
	CreatedAt       string `json:"created_at"`
	UpdatedAt       string `json:"updated_at"`
}

func toJSON(u User) userJSON {
	ts := seedTime.Format("2006-01-02T15:04:05.000000Z")
	return userJSON{
		ID: u.ID, Name: u.Name, Email: u.Email, TenantID: u.TenantID, Role: u.Role,
		EmailVerifiedAt: ts, CreatedAt: ts, UpdatedAt: ts,
	}
}
