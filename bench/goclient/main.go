// The fair embedded baseline for bench/run (issue 23): containerd 1.6's own Go client in one long-lived
// process, as an embedding Go program would use it. Reads one command per line on stdin and answers one
// line on stdout, so RunBench can alternate it with Berth run by run:
//
//	run <id> pertask|grouped   create the container from the image with a new snapshot, start its task,
//	                           wait, delete the task, delete the container with snapshot cleanup; answers
//	                           "ok <seconds>" (the time of those steps, in this process) or "err <message>";
//	                           the steps' times go to stderr (bench/run's log) as "go-steps <id> <grouped> ..."
//	quit                       removes the group's keeper container and exits
//
// "grouped" sets the io.containerd.runc.v2.group annotation, so containerd's runc shim serves the task in
// one shim for the group. containerd stops a shim whose last task is deleted, so a keeper container
// (sleep) in the same group, started before the first grouped run, keeps that shim warm: the same as
// Berth's warm shared shim. Bench only, never part of the tests; built by bench/run in GOPATH mode
// against Debian's golang-github-containerd-containerd-dev (1.6.20).
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/containerd/containerd"
	"github.com/containerd/containerd/cio"
	"github.com/containerd/containerd/namespaces"
	"github.com/containerd/containerd/oci"
)

const groupAnnotation = "io.containerd.runc.v2.group"

type bench struct {
	client *containerd.Client
	image  containerd.Image
	group  string
	keeper containerd.Container
	ktask  containerd.Task
}

func (b *bench) container(ctx context.Context, id string, grouped bool, args ...string) (containerd.Container, error) {
	specOpts := []oci.SpecOpts{oci.WithImageConfig(b.image), oci.WithProcessArgs(args...)}
	if grouped {
		specOpts = append(specOpts, oci.WithAnnotations(map[string]string{groupAnnotation: b.group}))
	}
	return b.client.NewContainer(ctx, id,
		containerd.WithImage(b.image),
		containerd.WithSnapshotter(containerd.DefaultSnapshotter),
		containerd.WithNewSnapshot(id+"-snapshot", b.image),
		containerd.WithNewSpec(specOpts...))
}

// startKeeper runs a sleeping container in the group, so the group's shim outlives each measured task.
func (b *bench) startKeeper(ctx context.Context) error {
	c, err := b.container(ctx, b.group+"-keeper", true, "/bin/sleep", "100000")
	if err != nil {
		return err
	}
	t, err := c.NewTask(ctx, cio.NullIO)
	if err != nil {
		c.Delete(ctx, containerd.WithSnapshotCleanup)
		return err
	}
	if err := t.Start(ctx); err != nil {
		t.Delete(ctx, containerd.WithProcessKill)
		c.Delete(ctx, containerd.WithSnapshotCleanup)
		return err
	}
	b.keeper, b.ktask = c, t
	return nil
}

func (b *bench) stopKeeper(ctx context.Context) {
	if b.ktask != nil {
		b.ktask.Delete(ctx, containerd.WithProcessKill)
		b.keeper.Delete(ctx, containerd.WithSnapshotCleanup)
		b.ktask, b.keeper = nil, nil
	}
}

// run is the measured cycle: what `ctr run --rm` does, minus the CLI process and its gRPC dial.
func (b *bench) run(ctx context.Context, id string, grouped bool) (time.Duration, error) {
	var out bytes.Buffer
	t0 := time.Now()
	c, err := b.container(ctx, id, grouped, "/bin/echo", "hi")
	if err != nil {
		return 0, err
	}
	defer func() {
		if c != nil {
			c.Delete(ctx, containerd.WithSnapshotCleanup)
		}
	}()
	t1 := time.Now()
	task, err := c.NewTask(ctx, cio.NewCreator(cio.WithStreams(nil, &out, io.Discard)))
	if err != nil {
		return 0, err
	}
	t2 := time.Now()
	exited, err := task.Wait(ctx)
	if err != nil {
		task.Delete(ctx, containerd.WithProcessKill)
		return 0, err
	}
	t3 := time.Now()
	if err := task.Start(ctx); err != nil {
		task.Delete(ctx, containerd.WithProcessKill)
		return 0, err
	}
	t4 := time.Now()
	status := <-exited
	t5 := time.Now()
	if _, err := task.Delete(ctx); err != nil {
		return 0, err
	}
	t6 := time.Now()
	err = c.Delete(ctx, containerd.WithSnapshotCleanup)
	c = nil
	t7 := time.Now()
	ms := func(a, b time.Time) float64 { return float64(b.Sub(a).Microseconds()) / 1000 }
	fmt.Fprintf(os.Stderr, "go-steps %s %d newContainer %.1f newTask %.1f wait %.1f start %.1f exit %.1f taskDelete %.1f ctrDelete %.1f start-abs %.6f\n",
		id, map[bool]int{true: 1, false: 0}[grouped], ms(t0, t1), ms(t1, t2), ms(t2, t3), ms(t3, t4), ms(t4, t5), ms(t5, t6), ms(t6, t7), float64(t0.UnixNano())/1e9)
	if err != nil {
		return 0, err
	}
	d := time.Since(t0)
	if status.ExitCode() != 0 || out.String() != "hi\n" {
		return 0, fmt.Errorf("exit %d, output %q", status.ExitCode(), out.String())
	}
	return d, nil
}

func main() {
	address := flag.String("address", "", "containerd's gRPC socket")
	namespace := flag.String("namespace", "bench-go", "namespace holding the unpacked image")
	ref := flag.String("image", "", "image name")
	flag.Parse()
	client, err := containerd.New(*address)
	if err != nil {
		fmt.Fprintln(os.Stderr, "goclient:", err)
		os.Exit(1)
	}
	defer client.Close()
	ctx := namespaces.WithNamespace(context.Background(), *namespace)
	image, err := client.GetImage(ctx, *ref)
	if err != nil {
		fmt.Fprintln(os.Stderr, "goclient:", err)
		os.Exit(1)
	}
	b := &bench{client: client, image: image, group: fmt.Sprintf("bench-go-group-%d", os.Getpid())}
	defer b.stopKeeper(ctx)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		f := strings.Fields(in.Text())
		if len(f) == 1 && f[0] == "quit" {
			return
		}
		if len(f) != 3 || f[0] != "run" || (f[2] != "pertask" && f[2] != "grouped") {
			fmt.Printf("err unknown command %q\n", in.Text())
			continue
		}
		grouped := f[2] == "grouped"
		if grouped && b.ktask == nil {
			if err := b.startKeeper(ctx); err != nil {
				fmt.Printf("err keeper: %v\n", strings.ReplaceAll(err.Error(), "\n", " "))
				continue
			}
		}
		d, err := b.run(ctx, f[1], grouped)
		if err != nil {
			fmt.Printf("err %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
			continue
		}
		fmt.Printf("ok %.6f\n", d.Seconds())
	}
}
