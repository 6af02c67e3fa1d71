package laravel

import (
	"errors"
	"fmt"
)

// FleetUsers returns n users for load tests, ids firstID, firstID+1, ...:
// every adminEvery-th one (adminEvery > 0) is a system admin without a
// tenant, the others are tenant staff spread round robin over tenants
// tenants (ids 1..tenants), every tenant's first one its tenant admin.
// Emails are "fleet{id}@tenant{t}.test" or "fleet{id}@echotray.test", the
// password DefaultPassword. Pass them (with DefaultUsers, if wanted) as
// Config.Users and get their tokens at once with IssueTokens.
func FleetUsers(firstID int64, n, tenants, adminEvery int) []User {
	if tenants < 1 {
		tenants = 1
	}
	users := make([]User, 0, n)
	seen := map[int64]bool{}
	staff := 0
	for i := range n {
		id := firstID + int64(i)
		if adminEvery > 0 && (i+1)%adminEvery == 0 {
			users = append(users, User{
				ID: id, Name: fmt.Sprintf("Fleet Admin %d", id), Email: fmt.Sprintf("fleet%d@echotray.test", id),
				Password: DefaultPassword, Role: RoleSystemAdmin,
			})
			continue
		}
		t := int64(staff%tenants) + 1
		staff++
		role := RoleStaff
		if !seen[t] {
			seen[t], role = true, RoleTenantAdmin
		}
		users = append(users, User{
			ID: id, Name: fmt.Sprintf("Fleet Staff %d", id), Email: fmt.Sprintf("fleet%d@tenant%d.test", id, t),
			Password: DefaultPassword, TenantID: &t, Role: role,
		})
	}
	return users
}

// IssueTokens signs the given users in without the login round trip (as
// Sanctum's createToken does in a seeder) and returns one token per id, in
// order. It fails for an unknown id.
func (s *Server) IssueTokens(ids ...int64) ([]string, error) {
	toks := make([]string, len(ids))
	for i, id := range ids {
		u, ok := s.userByID(id)
		if !ok {
			return nil, errors.New("laravel stand-in: no user with id " + fmt.Sprint(id))
		}
		toks[i] = s.issue(u)
	}
	return toks, nil
}
