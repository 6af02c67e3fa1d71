package cli

import (
	"encoding/json"
	"testing"
	"time"

	"echotray/app"
)

// A connection gap prints as a line like any event's, with its own data.
func TestWatchJSONConnectionGap(t *testing.T) {
	from := time.Date(2026, 12, 1, 14, 2, 0, 0, time.UTC)
	seven := 7
	line := watchJSON(app.GapEntry(from, from.Add(35*time.Minute), &seven))
	var got map[string]json.RawMessage
	if err := json.Unmarshal(line, &got); err != nil {
		t.Fatalf("not JSON: %s", line)
	}
	for _, k := range []string{"time", "channel", "event", "type", "title", "message", "data"} {
		if _, ok := got[k]; !ok {
			t.Errorf("no %q in %s", k, line)
		}
	}
	var l WatchLine
	_ = json.Unmarshal(line, &l)
	if l.Event != "ConnectionGap" || l.Type != "warning" {
		t.Errorf("line %+v", l)
	}
	var data struct {
		From, To  time.Time
		Recovered *int
	}
	if err := json.Unmarshal(l.Data, &data); err != nil || !data.From.Equal(from) || data.To.Sub(data.From) != 35*time.Minute ||
		data.Recovered == nil || *data.Recovered != 7 {
		t.Errorf("data %s", l.Data)
	}
}
