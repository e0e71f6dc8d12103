// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pkt_attach.c - row 3's baselines on a real interface: one program of
 * bench/progs/pkt_progs.bpf attached at TC ingress, the way ctlua attaches (cls_bpf in
 * direct-action mode on clsact, through libbpf's bpf_tc_*), for as long as the bench
 * wants it.
 *
 *   pkt_attach PROGS.O PROG IFNAME
 *
 * Prints "ready PROG-ID" once attached, then waits until a line or end of file arrives
 * on stdin; then prints "misses N" (pkt_misses of PROGS.O's .bss, which a hit never
 * touches), detaches, and exits. The namespace going away detaches it as well.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include "pkt_bss.h"

int main(int argc, char **argv)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts);
	struct bpf_prog_info info = {};
	__u32 info_len = sizeof(info);
	struct bpf_program *prog, *p;
	struct bpf_object *obj;
	bool created = true;
	char line[64];
	int err, status = 1;

	if (argc != 4) {
		fprintf(stderr, "usage: pkt_attach PROGS.O PROG IFNAME\n");
		return 2;
	}
	hook.ifindex = (int)if_nametoindex(argv[3]);
	if (!hook.ifindex) {
		fprintf(stderr, "pkt_attach: no interface named '%s'\n", argv[3]);
		return 2;
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		fprintf(stderr, "pkt_attach: cannot open '%s' (%s)\n", argv[1], strerror(errno));
		return 1;
	}
	prog = bpf_object__find_program_by_name(obj, argv[2]);
	if (!prog) {
		fprintf(stderr, "pkt_attach: no program '%s' in '%s'\n", argv[2], argv[1]);
		goto close;
	}
	bpf_object__for_each_program(p, obj)
		bpf_program__set_autoload(p, p == prog);
	err = bpf_object__load(obj);
	if (err) {
		fprintf(stderr, "pkt_attach: cannot load '%s' (%s)\n", argv[1], strerror(-err));
		goto close;
	}
	err = bpf_tc_hook_create(&hook);
	if (err == -EEXIST)
		created = false;
	else if (err) {
		fprintf(stderr, "pkt_attach: cannot add clsact to '%s' (%s)\n", argv[3], strerror(-err));
		goto close;
	}
	opts.prog_fd = bpf_program__fd(prog);
	err = bpf_tc_attach(&hook, &opts);
	if (!err)
		err = bpf_obj_get_info_by_fd(opts.prog_fd, &info, &info_len);
	if (err) {
		fprintf(stderr, "pkt_attach: cannot attach '%s' to '%s' ingress (%s)\n", argv[2],
			argv[3], strerror(-err));
		goto destroy;
	}
	printf("ready %u\n", info.id);
	fflush(stdout);

	(void)!fgets(line, sizeof(line), stdin);	/* a line or EOF: either means stop */
	printf("misses %lld\n", pkt_bss_first_u64(obj));
	fflush(stdout);
	opts.flags = opts.prog_fd = opts.prog_id = 0;
	err = bpf_tc_detach(&hook, &opts);
	if (err)
		fprintf(stderr, "pkt_attach: cannot detach from '%s' (%s)\n", argv[3], strerror(-err));
	else
		status = 0;
destroy:
	if (created) {
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&hook);
	}
close:
	bpf_object__close(obj);
	return status;
}
