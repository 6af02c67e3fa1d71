package publish

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

var testMaster = []byte("0123456789abcdef0123456789abcdef")

func TestSharedSecretIsSHA256OfChannelAndMasterKey(t *testing.T) {
	want := sha256.Sum256([]byte("private-encrypted-x" + string(testMaster)))
	if got := SharedSecret("private-encrypted-x", testMaster); got != want {
		t.Errorf("SharedSecret = %x, want %x", got, want)
	}
	if got := SharedSecretBase64("private-encrypted-x", testMaster); got != base64.StdEncoding.EncodeToString(want[:]) {
		t.Errorf("SharedSecretBase64 = %s", got)
	}
	if SharedSecret("private-encrypted-y", testMaster) == want {
		t.Error("every channel has its own key")
	}
}

func TestParseMasterKey(t *testing.T) {
	if k, err := ParseMasterKey(base64.StdEncoding.EncodeToString(testMaster)); err != nil || string(k) != string(testMaster) {
		t.Errorf("base64: %q, %v", k, err)
	}
	if k, err := ParseMasterKey(string(testMaster)); err != nil || string(k) != string(testMaster) {
		t.Errorf("raw: %q, %v", k, err)
	}
	for _, bad := range []string{"", "short", base64.StdEncoding.EncodeToString([]byte("16 bytes only!!!"))} {
		if _, err := ParseMasterKey(bad); err == nil {
			t.Errorf("ParseMasterKey(%q) accepted", bad)
		}
	}
}

func TestEncryptRoundTrip(t *testing.T) {
	data, err := Encrypt("private-encrypted-x", `{"amount":500}`, testMaster)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(data, "amount") {
		t.Fatalf("plaintext visible: %s", data)
	}
	var p map[string]string
	if err := json.Unmarshal([]byte(data), &p); err != nil || len(p) != 2 || p["nonce"] == "" || p["ciphertext"] == "" {
		t.Fatalf("payload %s", data)
	}
	if got, err := Decrypt("private-encrypted-x", data, testMaster); err != nil || got != `{"amount":500}` {
		t.Errorf("Decrypt = %q, %v", got, err)
	}
	if _, err := Decrypt("private-encrypted-other", data, testMaster); err == nil {
		t.Error("another channel's key opened it")
	}
	again, _ := Encrypt("private-encrypted-x", `{"amount":500}`, testMaster)
	if again == data {
		t.Error("the nonce is not random")
	}
	if _, err := Encrypt("private-encrypted-x", "x", []byte("short")); err == nil {
		t.Error("a short master key was accepted")
	}
}

func TestTriggerEncryptsEncryptedChannels(t *testing.T) {
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, string(b))
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	p := &Publisher{BaseURL: srv.URL, AppID: "1", Key: "k", Secret: "s", EncryptionMasterKey: testMaster}
	ctx := context.Background()
	if err := p.Trigger(ctx, []string{"private-encrypted-pay.1"}, "Paid", map[string]any{"phone": "0712345678"}, ""); err != nil {
		t.Fatal(err)
	}
	if err := p.Trigger(ctx, []string{"tenant.1"}, "Plain", map[string]any{"phone": "0712345678"}, ""); err != nil {
		t.Fatal(err)
	}
	if len(bodies) != 2 || strings.Contains(bodies[0], "0712345678") || !strings.Contains(bodies[1], "0712345678") {
		t.Fatalf("bodies %q", bodies)
	}
	var tb triggerBody
	_ = json.Unmarshal([]byte(bodies[0]), &tb)
	if got, err := Decrypt("private-encrypted-pay.1", tb.Data, testMaster); err != nil || got != `{"phone":"0712345678"}` {
		t.Errorf("decrypted %q, %v", got, err)
	}
	if err := p.Trigger(ctx, []string{"private-encrypted-a", "tenant.1"}, "X", "{}", ""); err == nil {
		t.Error("an encrypted channel with others was accepted")
	}
	p.EncryptionMasterKey = nil
	if err := p.Trigger(ctx, []string{"private-encrypted-a"}, "X", "{}", ""); err == nil || len(bodies) != 2 {
		t.Errorf("no master key: %v (%d requests)", err, len(bodies))
	}
}
