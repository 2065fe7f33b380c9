// libcni-helper drives Debian's packaged libcni (golang-github-appc-cni-dev) for the runtime
// interoperability tests: it adds, checks and deletes attachments through libcni and prints
// libcni's cached result, so the tests can hand attachments between libcni and our runtime.
//
// Usage: libcni-helper add|check|del|cached-result <netconf dir> <network> <container ID> <netns> <ifname>
//
// Environment: CNI_PATH (plugin directories), HELPER_CACHE_DIR (libcni's cache directory; empty
// means libcni's default), CNI_ARGS ("K=V;K=V"), CAP_ARGS (a JSON object).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/containernetworking/cni/libcni"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "libcni-helper: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) != 6 {
		return fmt.Errorf("usage: libcni-helper add|check|del|cached-result <netconf dir> <network> <container ID> <netns> <ifname>")
	}
	command, confDir, network := args[0], args[1], args[2]
	list, err := libcni.LoadConfList(confDir, network)
	if err != nil {
		return err
	}
	rt := &libcni.RuntimeConf{ContainerID: args[3], NetNS: args[4], IfName: args[5]}
	if rt.Args, err = pluginArgs(os.Getenv("CNI_ARGS")); err != nil {
		return err
	}
	if capArgs := os.Getenv("CAP_ARGS"); capArgs != "" {
		if err := json.Unmarshal([]byte(capArgs), &rt.CapabilityArgs); err != nil {
			return fmt.Errorf("CAP_ARGS: %w", err)
		}
	}
	cni := libcni.NewCNIConfigWithCacheDir(filepath.SplitList(os.Getenv("CNI_PATH")), os.Getenv("HELPER_CACHE_DIR"), nil)
	ctx := context.Background()

	switch command {
	case "add":
		result, err := cni.AddNetworkList(ctx, list, rt)
		if err != nil {
			return err
		}
		return printJSON(result)
	case "check":
		return cni.CheckNetworkList(ctx, list, rt)
	case "del":
		return cni.DelNetworkList(ctx, list, rt)
	case "cached-result":
		result, err := cni.GetNetworkListCachedResult(list, rt)
		if err != nil {
			return err
		}
		if result == nil {
			fmt.Println("null")
			return nil
		}
		return printJSON(result)
	}
	return fmt.Errorf("unknown command %q", command)
}

func pluginArgs(text string) ([][2]string, error) {
	var pairs [][2]string
	if text == "" {
		return pairs, nil
	}
	for _, pair := range strings.Split(text, ";") {
		kv := strings.SplitN(pair, "=", 2)
		if len(kv) != 2 {
			return nil, fmt.Errorf("CNI_ARGS: %q is not KEY=VALUE", pair)
		}
		pairs = append(pairs, [2]string{kv[0], kv[1]})
	}
	return pairs, nil
}

func printJSON(value interface{}) error {
	data, err := json.Marshal(value)
	if err != nil {
		return err
	}
	fmt.Println(string(data))
	return nil
}
