// gob-fixtures prints, as hex, the bytes Go's net/rpc writes for the dhcp plugin's calls and the
// dhcp daemon's answers, using Debian's packaged CNI library (golang-github-appc-cni-dev, the
// CNI 1.1 types the reference plugins 1.1.1 are built with). The unit tests of our gob codec
// (test/unit/dhcp/gob.test.ts) hold its output; run it again to check or renew them:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go run test/interop/gob-fixtures/main.go
package main

import (
	"bytes"
	"encoding/gob"
	"encoding/hex"
	"fmt"
	"net"
	"net/rpc"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"
)

func stream(values ...interface{}) string {
	var out bytes.Buffer
	encoder := gob.NewEncoder(&out)
	for _, value := range values {
		if err := encoder.Encode(value); err != nil {
			panic(err)
		}
	}
	return hex.EncodeToString(out.Bytes())
}

func main() {
	args := &skel.CmdArgs{
		ContainerID: "c1",
		Netns:       "/run/netns/x",
		IfName:      "eth0",
		Args:        "IgnoreUnknown=1",
		Path:        "/opt/cni/bin",
		StdinData:   []byte(`{"name":"n"}`),
	}
	fmt.Printf("call %s\n", stream(&rpc.Request{ServiceMethod: "DHCP.Allocate", Seq: 0}, args))

	_, network, _ := net.ParseCIDR("10.1.2.3/24")
	network.IP = net.ParseIP("10.1.2.3").To4()
	_, everywhere, _ := net.ParseCIDR("0.0.0.0/0")
	_, onLink, _ := net.ParseCIDR("10.9.0.0/16")
	result := &current.Result{
		IPs: []*current.IPConfig{{Address: *network, Gateway: net.ParseIP("10.1.2.1")}},
		Routes: []*types.Route{
			{Dst: *everywhere, GW: net.ParseIP("10.1.2.1")},
			{Dst: *onLink, GW: net.IPv4zero.To4()},
		},
	}
	fmt.Printf("answer %s\n", stream(&rpc.Response{ServiceMethod: "DHCP.Allocate", Seq: 0}, result))
	fmt.Printf("failure %s\n", stream(&rpc.Response{ServiceMethod: "DHCP.Allocate", Seq: 0, Error: "no DHCP answer"}, struct{}{}))
}
