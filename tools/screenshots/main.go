// Command screenshots signs in to a running Flare (the demo desk, `flare
// demo`) in headless Chromium and saves the main screens as PNG files for
// the README (the queue, a case beside it in the split layout and on its
// own, the command palette, the shortcuts, incidents, and the phone's queue,
// menu and case):
//
//	go run ./tools/screenshots -url http://127.0.0.1:8080 -out docs/screenshots
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/chromedp/chromedp"
)

func main() {
	base := flag.String("url", "http://127.0.0.1:8080", "a running Flare demo")
	email := flag.String("email", "sophie.laurent@larkspur.example", "who signs in (the demo's lead)")
	password := flag.String("password", "flare-demo-2026", "their password")
	out := flag.String("out", "docs/screenshots", "where the PNG files go")
	chromium := flag.String("chromium", "/usr/bin/chromium", "the browser")
	flag.Parse()
	if err := run(*base, *email, *password, *out, *chromium); err != nil {
		slog.Error("screenshots", "err", err)
		os.Exit(1)
	}
}

func run(base, email, password, out, chromium string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "flare-shots")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), chromedp.ExecPath(chromium), chromedp.Headless,
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.UserDataDir(dir), chromedp.WindowSize(1280, 800))
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			time.Sleep(400 * time.Millisecond) // the stream connects, times are converted
			png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
			if err != nil {
				return err
			}
			p := filepath.Join(out, name+".png")
			fmt.Println(p)
			return os.WriteFile(p, png, 0o644)
		})
	}

	return chromedp.Do(ctx,
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(base+"/login?next=%2Fcases"),
		chromedp.WaitVisible(css(`input[name=email]`)),
		chromedp.SendKeys(css(`input[name=email]`), email),
		chromedp.SendKeys(css(`input[name=password]`), password),
		chromedp.Click(css(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(css(`table.queue`)),
		chromedp.KeyEvent("j"), chromedp.KeyEvent("j"),
		shot("queue"),
		// Enter opens the selected case beside the list (the split layout).
		chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(css(`#list-pane tr.is-open`)),
		chromedp.WaitVisible(css(`#reply-form`)),
		shot("split"),
		// The same case on its own (a link from elsewhere: no list beside it).
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`location.assign(location.pathname), true`))
			return err
		}),
		chromedp.Sleep(300*time.Millisecond),
		chromedp.WaitVisible(css(`#reply-form`)),
		shot("case"),
		chromedp.KeyEvent("k", chromedp.KeyModifiers(chromedp.ModifierCtrl)),
		chromedp.WaitVisible(css(`#palette-input`)),
		chromedp.SendKeys(css(`#palette-input`), "parcel"),
		chromedp.Sleep(600*time.Millisecond),
		shot("palette"),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("palette").close(), document.activeElement.blur(), true`))
			return err
		}),
		chromedp.KeyEvent("?"),
		chromedp.WaitVisible(css(`#kb-help`)),
		shot("shortcuts"),
		chromedp.Navigate(base+"/incidents"),
		chromedp.WaitVisible(css(`main h1`)),
		shot("incidents"),
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(base+"/cases"),
		chromedp.WaitVisible(css(`#menu-btn`)),
		shot("phone-queue"),
		chromedp.Click(css(`#menu-btn`)),
		chromedp.WaitVisible(css(`#sidenav`)),
		shot("phone-menu"),
		// A case opened from the list on a phone: alone, full screen.
		chromedp.Navigate(base+"/cases"),
		chromedp.WaitVisible(css(`table.queue`)),
		chromedp.Click(css(`table.queue tbody tr:first-child td.col-title a`)),
		chromedp.WaitVisible(css(`#reply-form`)),
		shot("phone-case"),
	)
}

type css = chromedp.CSS
