// The official Go signer (github.com/aws/aws-msk-iam-sasl-signer-go) as an oracle, in one of two
// modes:
//
//	oracle-go                                signing cases as JSON lines on stdin (../README.md),
//	                                         one answer line per case on stdout
//	oracle-go --bench SECONDS session|nosession
//	                                         tokens per second in a warm loop
//
// Both go through GenerateAuthTokenFromCredentialsProvider with a provider returning the case's
// static credentials. The signer stamps X-Amz-Date with time.Now() and offers no clock to
// replace, so its clock is the real one: the differential test compares everything but X-Amz-Date
// and the signature, and verifies the signature with botocore at the signer's own X-Amz-Date.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	signer "github.com/aws/aws-msk-iam-sasl-signer-go/signer"
	"github.com/aws/aws-sdk-go-v2/aws"
)

type signingCase struct {
	ID           int64  `json:"id"`
	AccessKey    string `json:"access_key"`
	Secret       string `json:"secret"`
	SessionToken string `json:"session_token"`
	Region       string `json:"region"`
	NowMs        int64  `json:"now_ms"`
	ExpirationMs int64  `json:"expiration_ms"`
	Lifetime     int64  `json:"lifetime"`
}

type answer struct {
	ID       int64  `json:"id"`
	Token    string `json:"token,omitempty"`
	ExpiryMs int64  `json:"expiry_ms,omitempty"`
	Error    string `json:"error,omitempty"`
}

type staticProvider struct{ credentials aws.Credentials }

func (p staticProvider) Retrieve(context.Context) (aws.Credentials, error) { return p.credentials, nil }

func credentialsOf(c signingCase) aws.Credentials {
	credentials := aws.Credentials{AccessKeyID: c.AccessKey, SecretAccessKey: c.Secret,
		SessionToken: c.SessionToken, Source: "oracle"}
	if c.ExpirationMs >= 0 {
		credentials.CanExpire = true
		credentials.Expires = time.UnixMilli(c.ExpirationMs).UTC()
	}
	return credentials
}

func answerCases() error {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	encoder := json.NewEncoder(out)
	for in.Scan() {
		line := strings.TrimSpace(in.Text())
		if line == "" {
			continue
		}
		var c signingCase
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			return fmt.Errorf("bad case line")
		}
		a := answer{ID: c.ID}
		token, expiryMs, err := signer.GenerateAuthTokenFromCredentialsProvider(
			context.Background(), c.Region, staticProvider{credentialsOf(c)})
		if err != nil {
			a.Error = fmt.Sprintf("%T", err) // the type only: messages may quote inputs
		} else {
			a.Token, a.ExpiryMs = token, expiryMs
		}
		if err := encoder.Encode(a); err != nil {
			return err
		}
	}
	return in.Err()
}

// The inputs of mskiam-bench: same keys, a 444-byte session token, us-east-1, 900 s.
func benchCredentials(withSession bool) aws.Credentials {
	token := "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+"
	for len(token) < 440 {
		token += "Ab3+Cd/Ef9=Gh1+Ij2/Kl3="
	}
	token = token[:440] + "Zz=="
	credentials := aws.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE",
		SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
	if withSession {
		credentials.SessionToken = token
	}
	return credentials
}

func cpuSeconds() float64 {
	var r syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &r)
	return float64(r.Utime.Nano()+r.Stime.Nano()) / 1e9
}

type runResult struct {
	calls           int
	wall, cpu, best float64
	token           string
}

// Runs `chunks` slices of budget/chunks; the fastest slice (CPU time) is the least disturbed.
func run(provider aws.CredentialsProvider, budget float64, chunks int) (runResult, error) {
	wall0, cpu0 := time.Now(), cpuSeconds()
	var r runResult
	for c := 0; c < chunks; c++ {
		start, startCPU := time.Now(), cpuSeconds()
		n := 0
		for time.Since(start).Seconds() < budget/float64(chunks) {
			for i := 0; i < 50; i++ {
				token, _, err := signer.GenerateAuthTokenFromCredentialsProvider(context.Background(), "us-east-1", provider)
				if err != nil {
					return r, err
				}
				r.token = token
			}
			n += 50
		}
		if rate := float64(n) / (cpuSeconds() - startCPU); rate > r.best {
			r.best = rate
		}
		r.calls += n
	}
	r.wall, r.cpu = time.Since(wall0).Seconds(), cpuSeconds()-cpu0
	return r, nil
}

func bench(seconds float64, withSession bool) error {
	provider := staticProvider{benchCredentials(withSession)}
	if _, err := run(provider, min(1, seconds/3), 1); err != nil { // warm-up
		return err
	}
	r, err := run(provider, seconds, 6)
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"signer": "aws-msk-iam-sasl-signer-go", "version": signerVersion(), "runtime": runtime.Version(),
		"session_token": withSession, "calls": r.calls, "wall_s": r.wall, "cpu_s": r.cpu,
		"tokens_per_s_wall": float64(r.calls) / r.wall, "tokens_per_s_cpu": float64(r.calls) / r.cpu,
		"tokens_per_s_cpu_best": r.best, "token_bytes": len(r.token),
	})
}

// The module version the binary was built with (the signer keeps its own constant unexported).
func signerVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, m := range info.Deps {
			if m.Path == "github.com/aws/aws-msk-iam-sasl-signer-go" {
				return strings.TrimPrefix(m.Version, "v")
			}
		}
	}
	return "unknown"
}

func main() {
	var err error
	if len(os.Args) > 1 && os.Args[1] == "--bench" {
		seconds, _ := strconv.ParseFloat(os.Args[2], 64)
		err = bench(seconds, len(os.Args) > 3 && os.Args[3] == "session")
	} else {
		err = answerCases()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "oracle-go:", err)
		os.Exit(1)
	}
}
