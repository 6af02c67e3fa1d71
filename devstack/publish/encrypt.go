package publish

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/nacl/secretbox"
)

// EncryptedPrefix starts the name of every end-to-end encrypted channel
// (Laravel's EncryptedPrivateChannel, Echo's encryptedPrivate).
const EncryptedPrefix = "private-encrypted-"

// MasterKeyBytes is the length of an encryption master key, as
// pusher-php-server and pusher-http-go require.
const MasterKeyBytes = 32

// IsEncrypted reports whether channel is an encrypted channel.
func IsEncrypted(channel string) bool { return strings.HasPrefix(channel, EncryptedPrefix) }

// SharedSecret is the key of one encrypted channel, derived as the Pusher
// SDKs (and so Laravel's Pusher broadcaster) do:
// sha256(channel name + master key). The backend hands it to the client
// in the channel's authorisation answer ("shared_secret", base64); the
// WebSocket server never sees it.
func SharedSecret(channel string, masterKey []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte(channel))
	h.Write(masterKey)
	var k [32]byte
	copy(k[:], h.Sum(nil))
	return k
}

// SharedSecretBase64 is SharedSecret as the authorisation answer carries it.
func SharedSecretBase64(channel string, masterKey []byte) string {
	k := SharedSecret(channel, masterKey)
	return base64.StdEncoding.EncodeToString(k[:])
}

// ParseMasterKey reads an encryption master key given as base64 (Laravel's
// PUSHER_ENCRYPTION_MASTER_KEY_BASE64) or as 32 raw characters.
func ParseMasterKey(s string) ([]byte, error) {
	if len(s) == MasterKeyBytes {
		return []byte(s), nil
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("the encryption master key is neither %d characters nor base64: %w", MasterKeyBytes, err)
	}
	if len(b) != MasterKeyBytes {
		return nil, fmt.Errorf("the encryption master key is %d bytes, not %d", len(b), MasterKeyBytes)
	}
	return b, nil
}

// Encrypt seals payload (the event's data string) for channel as
// pusher-php-server does: a NaCl secretbox with a random 24-byte nonce
// under the channel's shared secret, returned as the JSON
// {"nonce": base64, "ciphertext": base64} that becomes the event's data.
func Encrypt(channel, payload string, masterKey []byte) (string, error) {
	if len(masterKey) != MasterKeyBytes {
		return "", fmt.Errorf("encrypt for %s: the encryption master key must be %d bytes, not %d", channel, MasterKeyBytes, len(masterKey))
	}
	var nonce [24]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return "", fmt.Errorf("encrypt for %s: nonce: %w", channel, err)
	}
	key := SharedSecret(channel, masterKey)
	box := secretbox.Seal(nil, []byte(payload), &nonce, &key)
	b, err := marshal(map[string]string{
		"nonce":      base64.StdEncoding.EncodeToString(nonce[:]),
		"ciphertext": base64.StdEncoding.EncodeToString(box),
	})
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// Decrypt opens what Encrypt sealed (for tests of the publishing side).
func Decrypt(channel, data string, masterKey []byte) (string, error) {
	var p struct{ Nonce, Ciphertext string }
	if err := json.Unmarshal([]byte(data), &p); err != nil {
		return "", fmt.Errorf("decrypt: %w", err)
	}
	nonce, err := base64.StdEncoding.DecodeString(p.Nonce)
	if err != nil || len(nonce) != 24 {
		return "", errors.New("decrypt: bad nonce")
	}
	box, err := base64.StdEncoding.DecodeString(p.Ciphertext)
	if err != nil {
		return "", fmt.Errorf("decrypt: %w", err)
	}
	var n [24]byte
	copy(n[:], nonce)
	key := SharedSecret(channel, masterKey)
	plain, ok := secretbox.Open(nil, box, &n, &key)
	if !ok {
		return "", errors.New("decrypt: the key does not open it")
	}
	return string(plain), nil
}
