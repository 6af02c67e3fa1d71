package realtime

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDecodeFrame(t *testing.T) {
	cases := []struct {
		in                   string
		event, channel, data string
		user                 string
		wantErr              bool
	}{
		{in: `{"event":"A","channel":"c","data":"{\"x\":1}"}`, event: "A", channel: "c", data: `{"x":1}`},
		{in: `{"event":"A","channel":"c","data":{"x":1}}`, event: "A", channel: "c", data: `{"x":1}`},
		{in: `{"event":"A","data":"plain text"}`, event: "A", data: `"plain text"`},
		{in: `{"event":"A","data":"  [1, 2] "}`, event: "A", data: `[1, 2]`},
		{in: `{"event":"A","data":"42"}`, event: "A", data: `42`},
		{in: `{"event":"A","data":""}`, event: "A", data: `""`},
		{in: `{"event":"A","data":"{\"broken\":"}`, event: "A", data: `"{\"broken\":"`},
		{in: `{"event":"A"}`, event: "A", data: `null`},
		{in: `{"event":"A","data":null}`, event: "A", data: `null`},
		{in: `{"event":"A","data":[1,2]}`, event: "A", data: `[1,2]`},
		{in: `{"event":"A","data":{},"user_id":"5"}`, event: "A", data: `{}`, user: "5"},
		{in: `{"event":"A","data":{},"user_id":17}`, event: "A", data: `{}`, user: "17"},
		{in: `{"event":"A","data":"{\"s\":\"caf\\u00e9\"}"}`, event: "A", data: `{"s":"caf\u00e9"}`},
		{in: `{"event":"","data":{}}`, wantErr: true},
		{in: `{"data":{}}`, wantErr: true},
		{in: `{"event":1}`, wantErr: true},
		{in: `{"event":"A","channel":7}`, wantErr: true},
		{in: `[]`, wantErr: true},
		{in: `nope`, wantErr: true},
		{in: ``, wantErr: true},
	}
	for _, c := range cases {
		f, err := decodeFrame([]byte(c.in))
		if c.wantErr {
			if err == nil {
				t.Errorf("decodeFrame(%q) accepted: %+v", c.in, f)
			}
			continue
		}
		if err != nil {
			t.Errorf("decodeFrame(%q): %v", c.in, err)
			continue
		}
		if f.Event != c.event || f.Channel != c.channel || string(f.Data) != c.data || f.UserID != c.user {
			t.Errorf("decodeFrame(%q) = %+v (data %s)", c.in, f, f.Data)
		}
	}
}

func TestDecodedDataDoesNotAliasInput(t *testing.T) {
	in := []byte(`{"event":"A","data":{"x":1}}`)
	f, err := decodeFrame(in)
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		in[i] = 'z'
	}
	if string(f.Data) != `{"x":1}` {
		t.Fatalf("data changed with the read buffer: %s", f.Data)
	}
}

func TestParseEstablished(t *testing.T) {
	cases := []struct {
		data     string
		id       string
		activity int
		ok       bool
	}{
		{`"{\"socket_id\":\"1.2\",\"activity_timeout\":30}"`, "1.2", 30, true},
		{`{"socket_id":"1.2","activity_timeout":120}`, "1.2", 120, true},
		{`{"socket_id":"1.2","activity_timeout":"30"}`, "1.2", 30, true},
		{`{"socket_id":"1.2"}`, "1.2", 0, true},
		{`{"activity_timeout":30}`, "", 0, false},
		{`{"socket_id":"1.2","activity_timeout":"soon"}`, "", 0, false},
		{`null`, "", 0, false},
	}
	for _, c := range cases {
		f, err := decodeFrame([]byte(`{"event":"pusher:connection_established","data":` + c.data + `}`))
		if err != nil {
			t.Fatal(err)
		}
		id, act, err := parseEstablished(f)
		if (err == nil) != c.ok || id != c.id || act != c.activity {
			t.Errorf("parseEstablished(%s) = %q, %d, %v", c.data, id, act, err)
		}
	}
}

func TestParsePusherError(t *testing.T) {
	cases := map[string]pusherError{
		`{"code":4001,"message":"m"}`:         {4001, "m"},
		`"{\"code\":4009,\"message\":\"x\"}"`: {4009, "x"},
		`{"code":null,"message":"n"}`:         {0, "n"},
		`{"message":"only"}`:                  {0, "only"},
		`"not json"`:                          {0, `"not json"`},
	}
	for data, want := range cases {
		f, _ := decodeFrame([]byte(`{"event":"pusher:error","data":` + data + `}`))
		if got := parsePusherError(f); got != want {
			t.Errorf("parsePusherError(%s) = %+v, want %+v", data, got, want)
		}
	}
}

func TestOutgoingFrames(t *testing.T) {
	if got := string(subscribeFrame("presence-room.1", Auth{Auth: "k:s", ChannelData: `{"user_id":5}`})); got !=
		`{"event":"pusher:subscribe","data":{"channel":"presence-room.1","auth":"k:s","channel_data":"{\"user_id\":5}"}}` {
		t.Errorf("subscribe = %s", got)
	}
	if got := string(unsubscribeFrame("a")); got != `{"event":"pusher:unsubscribe","data":{"channel":"a"}}` {
		t.Errorf("unsubscribe = %s", got)
	}
}

// seedFrames returns the captured frames in testdata/frames.
func seedFrames(tb testing.TB) [][]byte {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "frames", "*.json"))
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no seed frames: %v", err)
	}
	var out [][]byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func TestSeedFramesDecode(t *testing.T) {
	for _, b := range seedFrames(t) {
		f, err := decodeFrame(b)
		if err != nil {
			t.Errorf("%s: %v", b, err)
			continue
		}
		if strings.HasPrefix(string(f.Data), `"{`) {
			t.Errorf("%s: JSON string data not unwrapped: %s", b, f.Data)
		}
	}
}

// FuzzDecodeFrame checks that decoding never panics and that an accepted
// frame always has an event name and valid JSON data that does not alias
// the input.
func FuzzDecodeFrame(f *testing.F) {
	for _, b := range seedFrames(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := decodeFrame(b)
		if err != nil {
			return
		}
		if fr.Event == "" {
			t.Fatalf("accepted a frame without event: %q", b)
		}
		if !json.Valid(fr.Data) {
			t.Fatalf("data %q of %q is not JSON", fr.Data, b)
		}
		before := string(fr.Data)
		for i := range b {
			b[i] = 0
		}
		if string(fr.Data) != before {
			t.Fatalf("data aliases the input")
		}
		// The handlers built on top must not panic either.
		_, _, _ = parseEstablished(fr)
		_ = parsePusherError(fr)
		_ = parseSubscriptionError(fr)
	})
}

// referenceNormalise is normaliseData written with encoding/json only.
func referenceNormalise(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 || string(raw) == "null" {
		return nullJSON
	}
	var s string
	if raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return raw
	}
	inner := []byte(strings.TrimSpace(s))
	if len(inner) == 0 || !json.Valid(inner) {
		return raw
	}
	return inner
}

func TestUnquoteMatchesEncodingJSON(t *testing.T) {
	for _, q := range []string{
		`""`, `"abc"`, `"a\"b"`, `"\\\/\b\f\n\r\t"`, `"caf\u00e9"`, `"\ud83d\ude00"`,
		`"\ud83d"`, `"\ud83dx"`, `"\ude00\u0041"`, `"\ud83d\u0041"`, "\"\xff\xfe\"", `"é"`,
	} {
		checkUnquote(t, []byte(q))
	}
}

func checkUnquote(t *testing.T, q []byte) {
	t.Helper()
	var want string
	if len(q) < 2 || q[0] != '"' || q[len(q)-1] != '"' || json.Unmarshal(q, &want) != nil {
		return // unquote only ever gets a bare, validated JSON string literal
	}
	got, ok := unquote(q)
	if !ok || string(got) != want {
		t.Fatalf("unquote(%q) = %q, %v; encoding/json says %q", q, got, ok, want)
	}
}

// FuzzUnquote compares the hand-written unquoting (and the whole data
// normalisation) with encoding/json.
func FuzzUnquote(f *testing.F) {
	for _, s := range []string{`"a\"b"`, `"\ud83d\ude00"`, `"{\"x\":\"\\u00e9\"}"`, `" [1] "`, "\"\xff\""} {
		f.Add([]byte(s))
	}
	for _, b := range seedFrames(f) {
		var w wireFrame
		if json.Unmarshal(b, &w) == nil && len(w.Data) > 0 {
			f.Add([]byte(w.Data))
		}
	}
	f.Fuzz(func(t *testing.T, q []byte) {
		if !json.Valid(q) {
			return
		}
		checkUnquote(t, bytes.TrimSpace(q))
		// Through the real path: q as the data field of a frame.
		msg := append(append([]byte(`{"event":"e","data":`), q...), '}')
		var w wireFrame
		if err := json.Unmarshal(msg, &w); err != nil {
			t.Fatalf("reference decode of %q: %v", msg, err)
		}
		fr, err := decodeFrame(msg)
		if err != nil {
			t.Fatalf("decodeFrame(%q): %v", msg, err)
		}
		if want := referenceNormalise(w.Data); string(fr.Data) != string(want) {
			t.Fatalf("data of %q = %q, reference %q", msg, fr.Data, want)
		}
	})
}
