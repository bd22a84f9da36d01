// Command receiver is the sealhook receiver kit for Go (net/http, the
// Standard Webhooks library and lestrrat-go/jwx). It verifies the signature,
// then decrypts the JWE with the key its kid names, dedupes by webhook-id,
// stores the event, and only then answers 2xx.
//
//	go build -o receiver . && ./receiver --port N --host H --key FILE [--key FILE ...] \
//	    --secret-file PATH --out FILE.jsonl
//
// --key: a private key, JWK or PEM (`sealhook keygen` writes both); repeat it
// while you rotate keys. --secret-file: one whsec_ secret a line, read on every
// request (any of them may verify: secret rotation is a file edit).
// stdout: {"listening": PORT} once ready. FILE.jsonl: one line
// {"webhook_id", "kid", "event"} per new event, fsynced before the 2xx.
// Status: 204 stored or duplicate; 401 bad or stale signature (nothing is
// decrypted); 400 unknown kid or undecryptable body; 413 body too large;
// 500 not stored (the server retries).
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

const maxBody = 4 << 20 // a 1 MiB payload is about 1.4 MiB of JWE

type keyFiles []string

func (k *keyFiles) String() string     { return strings.Join(*k, ",") }
func (k *keyFiles) Set(v string) error { *k = append(*k, v); return nil }

func main() {
	var keyPaths keyFiles
	port := flag.Int("port", 0, "TCP port (0: any free port)")
	host := flag.String("host", "127.0.0.1", "address to listen on")
	flag.Var(&keyPaths, "key", "private key, JWK or PEM (repeatable)")
	secretFile := flag.String("secret-file", "", "whsec_ secrets, one a line")
	outPath := flag.String("out", "", "the JSON Lines file events are stored in")
	flag.Parse()
	if len(keyPaths) == 0 || *secretFile == "" || *outPath == "" {
		flag.Usage()
		os.Exit(2)
	}
	keys, err := loadKeys(keyPaths)
	if err != nil {
		fail(err)
	}
	st, err := openStore(*outPath)
	if err != nil {
		fail(err)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(*host, fmt.Sprint(*port)))
	if err != nil {
		fail(err)
	}
	fmt.Printf("{\"listening\": %d}\n", ln.Addr().(*net.TCPAddr).Port)

	rx := &receiver{keys: keys, secretFile: *secretFile, store: st}
	srv := &http.Server{Handler: rx, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown) // finish the requests in flight
	}()
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "receiver:", err)
	os.Exit(1)
}
