package app

import (
	"net/url"
	"strconv"
	"strings"
)

// AccountKey is the history account of a user on a server: the server URL
// normalised (scheme, lower-case host[:port] and path, no trailing slash,
// no credentials, query or fragment) + "#" + the decimal user id, e.g.
// "https://billing.example.com#42". Two spellings of one server give one
// key. The history store treats it as an opaque string.
func AccountKey(server string, userID int64) string {
	return accountKey(server, strconv.FormatInt(userID, 10))
}

// AccountOf is AccountKey for a user as the API describes it (whose id may
// be a string).
func AccountOf(server string, u User) string {
	if id, err := strconv.ParseInt(u.ID, 10, 64); err == nil {
		return AccountKey(server, id)
	}
	return accountKey(server, strings.TrimSpace(u.ID))
}

func accountKey(server, id string) string {
	return accountServer(server) + "#" + id
}

// accountServer normalises a server URL for an account key.
func accountServer(server string) string {
	s := strings.TrimSpace(server)
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		if !strings.Contains(s, "://") {
			if u2, err2 := url.Parse("https://" + s); err2 == nil && u2.Host != "" {
				u, err = u2, nil
			}
		}
	}
	if err != nil || u == nil || u.Host == "" {
		return strings.TrimRight(strings.ToLower(s), "/")
	}
	host := strings.ToLower(u.Host)
	scheme := strings.ToLower(u.Scheme)
	switch {
	case scheme == "https" && strings.HasSuffix(host, ":443"):
		host = strings.TrimSuffix(host, ":443")
	case scheme == "http" && strings.HasSuffix(host, ":80"):
		host = strings.TrimSuffix(host, ":80")
	}
	return scheme + "://" + host + strings.TrimRight(u.EscapedPath(), "/")
}
