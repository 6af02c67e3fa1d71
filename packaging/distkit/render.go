package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/template"
)

// renderData is what templates see: the metadata plus extra named values
// passed on the command line (-var, -varfile).
type renderData struct {
	Meta
	Vars map[string]string
}

// templateFuncs escape values for the file formats the templates produce.
var templateFuncs = template.FuncMap{
	"xml": func(s string) (string, error) {
		var b strings.Builder
		if err := xml.EscapeText(&b, []byte(s)); err != nil {
			return "", err
		}
		return b.String(), nil
	},
	// desktop escapes a value of a .desktop file key.
	"desktop": func(s string) string {
		return strings.NewReplacer(`\`, `\\`, "\n", `\n`, "\t", `\t`, "\r", `\r`).Replace(s)
	},
	// desktopList joins a .desktop list value, each item ended by ';'.
	"desktopList": func(items []string) string {
		var b strings.Builder
		for _, it := range items {
			b.WriteString(strings.NewReplacer(`\`, `\\`, ";", `\;`).Replace(it))
			b.WriteByte(';')
		}
		return b.String()
	},
	// rc escapes a string literal of a Windows resource script.
	"rc": func(s string) string { return strings.ReplaceAll(s, `"`, `""`) },
	// roff escapes text for a man page line.
	"roff": func(s string) string {
		s = strings.ReplaceAll(s, `\`, `\e`)
		s = strings.ReplaceAll(s, "-", `\-`)
		var out []string
		for _, l := range strings.Split(s, "\n") {
			if strings.HasPrefix(l, ".") || strings.HasPrefix(l, "'") {
				l = `\&` + l
			}
			out = append(out, l)
		}
		return strings.Join(out, "\n")
	},
	// debDesc formats a Debian extended description: every line indented by
	// one space and empty lines written as " .".
	"debDesc": func(s string) string {
		var out []string
		for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
			l = strings.TrimRight(l, " \t")
			if l == "" {
				l = "."
			}
			out = append(out, " "+l)
		}
		return strings.Join(out, "\n")
	},
	// paras splits text into paragraphs at blank lines, each paragraph's
	// lines joined by single spaces.
	"paras": paragraphs,
	"join":  strings.Join,
	"lower": strings.ToLower,
	"upper": strings.ToUpper,
	"trim":  strings.TrimSpace,
}

// render executes the template file tmpl with data and writes the result to
// out (or returns it when out is empty).
func render(tmpl, out string, data renderData) ([]byte, error) {
	src, err := os.ReadFile(tmpl)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	t, err := template.New(filepath.Base(tmpl)).Funcs(templateFuncs).Option("missingkey=error").Parse(string(src))
	if err != nil {
		return nil, fmt.Errorf("parse template %s: %w", tmpl, err)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return nil, fmt.Errorf("render %s: %w", tmpl, err)
	}
	if out == "" {
		return buf.Bytes(), nil
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return nil, fmt.Errorf("create folder for %s: %w", out, err)
	}
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		return nil, fmt.Errorf("write %s: %w", out, err)
	}
	return buf.Bytes(), nil
}

// paragraphs splits text at blank lines and joins the lines of each paragraph.
func paragraphs(s string) []string {
	var out, cur []string
	flush := func() {
		if len(cur) > 0 {
			out = append(out, strings.Join(cur, " "))
			cur = nil
		}
	}
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			flush()
			continue
		}
		cur = append(cur, l)
	}
	flush()
	return out
}
