// Command distkit is the packaging helper behind packaging/dist.sh and the
// macOS recipe. It reads the application metadata from FyneApp.toml (the one
// place where name, ID and version live) and turns it into what the
// installers need:
//
//	distkit meta   [-app FyneApp.toml]                       shell variable assignments
//	distkit render [-app ...] -in TEMPLATE [-out FILE] [-var k=v] [-varfile k=path]
//	distkit icons  -src PNG -dir DIR -name NAME [-sizes 32,64,...]  hicolor PNG tree
//	distkit ico    -src PNG -out FILE.ico                    Windows icon
//	distkit icns   -src PNG -out FILE.icns                   macOS icon
//	distkit licenses -bin BINARY -out FILE [-debian]         third-party licence notices
//
// It needs no network and no image tools, so the same commands work on the
// Linux build host and on a macOS CI runner.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "distkit:", err)
		os.Exit(1)
	}
}

const usage = "usage: distkit meta|render|icons|ico|icns|licenses [flags] (see -h of each)"

// run dispatches one sub-command.
func run(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	cmd, args := args[0], args[1:]
	fs := flag.NewFlagSet("distkit "+cmd, flag.ContinueOnError)
	switch cmd {
	case "meta":
		app := fs.String("app", "FyneApp.toml", "application metadata file")
		if err := fs.Parse(args); err != nil {
			return err
		}
		m, err := loadMetaWithDate(*app)
		if err != nil {
			return err
		}
		for _, kv := range m.Vars() {
			fmt.Fprintf(stdout, "%s=%s\n", kv[0], shellQuote(kv[1]))
		}
		return nil

	case "render":
		app := fs.String("app", "FyneApp.toml", "application metadata file")
		in := fs.String("in", "", "template file (Go text/template)")
		out := fs.String("out", "", "output file (default: standard output)")
		vars := map[string]string{}
		fs.Func("var", "extra template value `key=value` (repeatable)", func(s string) error {
			k, v, ok := strings.Cut(s, "=")
			if !ok || k == "" {
				return fmt.Errorf("%q is not key=value", s)
			}
			vars[k] = v
			return nil
		})
		fs.Func("varfile", "extra template value read from a file, `key=path` (repeatable)", func(s string) error {
			k, p, ok := strings.Cut(s, "=")
			if !ok || k == "" {
				return fmt.Errorf("%q is not key=path", s)
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return fmt.Errorf("read %s: %w", k, err)
			}
			vars[k] = string(b)
			return nil
		})
		if err := fs.Parse(args); err != nil {
			return err
		}
		if *in == "" {
			return errors.New("render: -in is required")
		}
		m, err := loadMetaWithDate(*app)
		if err != nil {
			return err
		}
		b, err := render(*in, *out, renderData{Meta: m, Vars: vars})
		if err != nil {
			return err
		}
		if *out == "" {
			_, err = stdout.Write(b)
		}
		return err

	case "icons":
		src := fs.String("src", "", "source PNG (square, at least 256 px)")
		dir := fs.String("dir", "", "output folder (gets NxN/apps/NAME.png)")
		name := fs.String("name", "", "icon name (the app ID)")
		sizes := fs.String("sizes", "16,24,32,48,64,128,256,512", "comma-separated sizes")
		if err := fs.Parse(args); err != nil {
			return err
		}
		if *src == "" || *dir == "" || *name == "" {
			return errors.New("icons: -src, -dir and -name are required")
		}
		list, err := parseSizes(*sizes)
		if err != nil {
			return err
		}
		img, err := loadIcon(*src)
		if err != nil {
			return err
		}
		written, err := writePNGSizes(img, *dir, *name, list)
		if err != nil {
			return err
		}
		for _, s := range written {
			fmt.Fprintln(stdout, s)
		}
		return nil

	case "licenses":
		bin := fs.String("bin", "", "Go binary (any OS) whose modules are listed")
		out := fs.String("out", "", "output text file")
		modCache := fs.String("modcache", "", "module cache (default: go env GOMODCACHE)")
		goroot := fs.String("goroot", "", "Go root (default: go env GOROOT)")
		debian := fs.Bool("debian", false, "refer to /usr/share/common-licenses instead of repeating the licences Debian ships")
		if err := fs.Parse(args); err != nil {
			return err
		}
		if *bin == "" || *out == "" {
			return errors.New("licenses: -bin and -out are required")
		}
		if *modCache == "" {
			v, err := goEnv("GOMODCACHE")
			if err != nil {
				return err
			}
			*modCache = v
		}
		if *goroot == "" {
			v, err := goEnv("GOROOT")
			if err != nil {
				return err
			}
			*goroot = v
		}
		mods, missing, err := thirdPartyNotices(*bin, *modCache, *goroot)
		if err != nil {
			return err
		}
		for _, m := range missing {
			fmt.Fprintf(os.Stderr, "distkit: warning: no licence file found for %s\n", m)
		}
		return writeFileWith(*out, func(w io.Writer) error {
			var transform func(string) string
			if *debian {
				transform = debianCommonLicenses
			}
			_, err := io.WriteString(w, formatNotices(mods, transform))
			return err
		})

	case "ico", "icns":
		src := fs.String("src", "", "source PNG (square, at least 256 px)")
		out := fs.String("out", "", "output file")
		if err := fs.Parse(args); err != nil {
			return err
		}
		if *src == "" || *out == "" {
			return fmt.Errorf("%s: -src and -out are required", cmd)
		}
		img, err := loadIcon(*src)
		if err != nil {
			return err
		}
		if cmd == "ico" {
			return writeFileWith(*out, func(w io.Writer) error { return encodeICO(w, img, icoSizes) })
		}
		return writeFileWith(*out, func(w io.Writer) error { return encodeICNS(w, img) })
	}
	return fmt.Errorf("unknown command %q; %s", cmd, usage)
}

// loadMetaWithDate loads the metadata and stamps the release date.
func loadMetaWithDate(path string) (Meta, error) {
	m, err := LoadMeta(path)
	if err != nil {
		return Meta{}, err
	}
	if m.Date, err = releaseDate(); err != nil {
		return Meta{}, err
	}
	return m, nil
}

// goEnv returns one value of `go env`.
func goEnv(key string) (string, error) {
	out, err := exec.Command("go", "env", key).Output()
	if err != nil {
		return "", fmt.Errorf("go env %s: %w", key, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// parseSizes parses "32,64,128".
func parseSizes(s string) ([]int, error) {
	var out []int
	for _, p := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 1 || n > 1024 {
			return nil, fmt.Errorf("icon size %q is not a number between 1 and 1024", p)
		}
		out = append(out, n)
	}
	return out, nil
}
