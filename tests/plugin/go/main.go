// A confluent-kafka-go client, built with its bundled librdkafka (linked into the program
// statically, its symbols hidden): what the plugin cannot drive, and must say so.
//
//	go-client PLUGIN [key=value]...   prints "librdkafka VERSION" on stderr, then
//	                                   "result created" or "result failed: ERROR"
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
)

func main() {
	_, version := kafka.LibraryVersion()
	fmt.Fprintf(os.Stderr, "librdkafka %s\n", version)
	conf := kafka.ConfigMap{"plugin.library.paths": os.Args[1]}
	for _, kv := range os.Args[2:] {
		k, v, _ := strings.Cut(kv, "=")
		conf[k] = v
	}
	p, err := kafka.NewProducer(&conf)
	if err != nil {
		fmt.Printf("result failed: %v\n", err)
		return
	}
	p.Close()
	fmt.Println("result created")
}
