package publish

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"
)

// Vectors from the Pusher documentation (channel auth and HTTP API
// authentication pages), key 278d425bdf160c739803, secret 7ad3773142a6692b25b8.
const (
	docKey    = "278d425bdf160c739803"
	docSecret = "7ad3773142a6692b25b8"
)

func TestChannelAuthVectors(t *testing.T) {
	tests := []struct {
		name, socketID, channel, channelData, want string
	}{
		{"private", "1234.1234", "private-foobar", "",
			docKey + ":58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4"},
		{"presence", "1234.1234", "presence-foobar", `{"user_id":10,"user_info":{"name":"Mr. Channels"}}`,
			docKey + ":31935e7d86dba64c2a90aed31fdc61869f9b22ba9d8863bba239c03ca481bc80"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ChannelAuth(docKey, docSecret, tc.socketID, tc.channel, tc.channelData); got != tc.want {
				t.Errorf("ChannelAuth = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestSignQueryVector(t *testing.T) {
	body := `{"name":"foo","channels":["project-3"],"data":"{\"some\":\"data\"}"}`
	if got := BodyMD5([]byte(body)); got != "ec365a775a4cd0599faeb73354201b6f" {
		t.Fatalf("BodyMD5 = %s", got)
	}
	params := url.Values{
		"auth_key":       {docKey},
		"auth_timestamp": {"1353088179"},
		"auth_version":   {"1.0"},
		"body_md5":       {"ec365a775a4cd0599faeb73354201b6f"},
		"auth_signature": {"ignored: never part of the signed string"},
	}
	const want = "da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c"
	if got := SignQuery(docSecret, "POST", "/apps/3/events", params); got != want {
		t.Errorf("SignQuery = %s, want %s", got, want)
	}
	if got := SignQuery(docSecret, "post", "/apps/3/events", params); got != want {
		t.Errorf("SignQuery with a lower-case method = %s, want %s", got, want)
	}
	if got := SignQuery(docSecret, "POST", "/apps/4/events", params); got == want {
		t.Error("the path is not part of the signature")
	}
}

func TestEncodeData(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{`{"a":1}`, `{"a":1}`},
		{"not json", "not json"},
		{[]byte(`{"b":2}`), `{"b":2}`},
		{json.RawMessage(`[1,2]`), `[1,2]`},
		{map[string]any{"user": map[string]any{"name": "Zoë & <Co>"}}, `{"user":{"name":"Zoë & <Co>"}}`},
		{nil, "null"},
	}
	for _, tc := range tests {
		got, err := EncodeData(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("EncodeData(%v) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := EncodeData(func() {}); err == nil {
		t.Error("EncodeData(func) did not fail")
	}
}

// verifyingServer checks each request's signature like Soketi does and
// records the last body.
func verifyingServer(t *testing.T, secret string, answer func(w http.ResponseWriter)) (*httptest.Server, *[]byte) {
	t.Helper()
	var last []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		q := r.URL.Query()
		if len(body) > 0 && q.Get("body_md5") != BodyMD5(body) {
			t.Errorf("body_md5 %s does not match the body", q.Get("body_md5"))
		}
		if got := SignQuery(secret, r.Method, r.URL.Path, q); got != q.Get("auth_signature") {
			t.Errorf("signature %s, recomputed %s", q.Get("auth_signature"), got)
		}
		if q.Get("auth_version") != "1.0" || q.Get("auth_key") == "" || q.Get("auth_timestamp") != "1700000000" {
			t.Errorf("bad auth params %v", q)
		}
		last = body
		answer(w)
	}))
	t.Cleanup(srv.Close)
	return srv, &last
}

func fixedNow() time.Time { return time.Unix(1700000000, 0) }

func TestTriggerSendsLaravelShapedSignedRequest(t *testing.T) {
	srv, last := verifyingServer(t, "s3cret", func(w http.ResponseWriter) {
		_, _ = io.WriteString(w, `{"ok":true}`)
	})
	p := &Publisher{BaseURL: srv.URL + "/", AppID: "42", Key: "k", Secret: "s3cret", Now: fixedNow}
	data := map[string]any{"payment": map[string]any{"amount": 150, "currency": "KES"}}
	if err := p.Trigger(context.Background(), []string{"tenant.1", "tenant.2"}, `App\Events\PaymentCompleted`, data, "123.456"); err != nil {
		t.Fatalf("Trigger: %v", err)
	}
	want := `{"name":"App\\Events\\PaymentCompleted","data":"{\"payment\":{\"amount\":150,\"currency\":\"KES\"}}","channels":["tenant.1","tenant.2"],"socket_id":"123.456"}`
	if string(*last) != want {
		t.Errorf("body\n got %s\nwant %s", *last, want)
	}
	if err := p.Trigger(context.Background(), []string{"tenant.1"}, "Bare", "{}", ""); err != nil {
		t.Fatalf("Trigger: %v", err)
	}
	if want := `{"name":"Bare","data":"{}","channels":["tenant.1"]}`; string(*last) != want {
		t.Errorf("body %s, want %s (no socket_id)", *last, want)
	}
	if err := p.Trigger(context.Background(), nil, "X", "{}", ""); err == nil {
		t.Error("Trigger without channels did not fail")
	}
}

func TestTriggerErrors(t *testing.T) {
	tests := []struct {
		name       string
		answer     func(w http.ResponseWriter)
		wantStatus int
		wantMsg    string
	}{
		{"non-2xx JSON", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			_, _ = io.WriteString(w, `{"error":"The data content of this event exceeds the allowed maximum (100 kb).","code":413}`)
		}, 413, "The data content of this event exceeds the allowed maximum (100 kb)."},
		{"Soketi's 200 with an error body", func(w http.ResponseWriter) {
			_, _ = io.WriteString(w, `{"error":"The secret authentication failed","code":401}`)
		}, 401, "The secret authentication failed"},
		{"non-2xx text", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusBadGateway)
			_, _ = io.WriteString(w, "upstream down\n")
		}, 502, "upstream down"},
		{"non-2xx empty", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusForbidden)
		}, 403, "(empty answer)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := verifyingServer(t, "s", tc.answer)
			p := &Publisher{BaseURL: srv.URL, AppID: "1", Key: "k", Secret: "s", Now: fixedNow}
			err := p.Trigger(context.Background(), []string{"c"}, "E", "{}", "")
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v, want *APIError", err)
			}
			if apiErr.Status != tc.wantStatus || apiErr.Message != tc.wantMsg {
				t.Errorf("APIError = %d %q, want %d %q", apiErr.Status, apiErr.Message, tc.wantStatus, tc.wantMsg)
			}
		})
	}
	// A 200 whose body merely has an "error" key without a code is success.
	srv, _ := verifyingServer(t, "s", func(w http.ResponseWriter) { _, _ = io.WriteString(w, `{"error":null}`) })
	p := &Publisher{BaseURL: srv.URL, AppID: "1", Key: "k", Secret: "s", Now: fixedNow}
	if err := p.Trigger(context.Background(), []string{"c"}, "E", "{}", ""); err != nil {
		t.Errorf("Trigger: %v", err)
	}
	bad := &Publisher{BaseURL: "::not a url", AppID: "1", Key: "k", Secret: "s"}
	if err := bad.Trigger(context.Background(), []string{"c"}, "E", "{}", ""); err == nil {
		t.Error("bad base URL accepted")
	}
}

func TestChannels(t *testing.T) {
	srv, _ := verifyingServer(t, "s", func(w http.ResponseWriter) {
		_, _ = io.WriteString(w, `{"channels":{"tenant.1":{"subscription_count":2},"private-user.1":{}}}`)
	})
	p := &Publisher{BaseURL: srv.URL, AppID: "1", Key: "k", Secret: "s", Now: fixedNow}
	got, err := p.Channels(context.Background(), "tenant.")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["tenant.1"].SubscriptionCount != 2 {
		t.Errorf("Channels = %v", got)
	}
}
