// Package publish sends events to a Pusher-protocol server (Soketi) through
// the signed Pusher HTTP API, the way Laravel's Pusher broadcaster does, and
// holds the two Pusher signing functions (HTTP API requests and channel auth).
//
// It is test and demo tooling: the secret it needs must never reach the
// desktop client.
package publish

import (
	"crypto/hmac"
	"crypto/md5" //nolint:gosec // The Pusher HTTP API defines body_md5 as an MD5 hex digest.
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"sort"
	"strings"
)

// SignQuery returns the auth_signature of a Pusher HTTP API request: the hex
// HMAC-SHA256, keyed with secret, of
//
//	METHOD "\n" PATH "\n" k1=v1&k2=v2...
//
// where the pairs are every parameter except auth_signature, sorted by key,
// with raw (not URL-encoded) values. Only the first value of a key is used, as
// the Pusher SDKs keep one value per key. method is upper-cased.
func SignQuery(secret, method, path string, params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k == "auth_signature" {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(strings.ToUpper(method))
	b.WriteByte('\n')
	b.WriteString(path)
	b.WriteByte('\n')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(params.Get(k))
	}
	return hmacHex(secret, b.String())
}

// ChannelAuth returns the "auth" value a channel authorisation endpoint
// answers: key + ":" + hex HMAC-SHA256(secret, socketID + ":" + channel),
// with ":" + channelData appended to the signed string when channelData is
// not empty (presence channels).
func ChannelAuth(key, secret, socketID, channel, channelData string) string {
	msg := socketID + ":" + channel
	if channelData != "" {
		msg += ":" + channelData
	}
	return key + ":" + hmacHex(secret, msg)
}

// BodyMD5 returns the hex MD5 digest of body, the body_md5 parameter.
func BodyMD5(body []byte) string {
	sum := md5.Sum(body) //nolint:gosec // Required by the protocol, not used for security.
	return hex.EncodeToString(sum[:])
}

func hmacHex(secret, msg string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}
