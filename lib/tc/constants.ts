/**
 * Traffic-control numbers, named exactly as in the uapi headers (linux/pkt_sched.h,
 * linux/pkt_cls.h, linux/tc_act/tc_mirred.h, linux/if_ether.h) so they can be looked up there.
 * TCA_KIND, TCA_OPTIONS and the TC_H_* handles live with the other rtnetlink numbers in
 * lib/netlink/constants.ts.
 */

/** linux/if_ether.h: every protocol, the filter protocol of a match-all filter. */
export const ETH_P_ALL = 0x0003;

// tbf (linux/pkt_sched.h)
export const TCA_TBF_PARMS = 1;
export const TCA_TBF_RATE64 = 4;

// u32 classifier (linux/pkt_cls.h)
export const TCA_U32_CLASSID = 1;
export const TCA_U32_SEL = 5;
export const TCA_U32_ACT = 7;
/** tc_u32_sel.flags: a leaf node whose match ends the search. */
export const TC_U32_TERMINAL = 1;

// Actions (linux/pkt_cls.h): a list of nested entries numbered from TCA_ACT_TAB (the order)
export const TCA_ACT_TAB = 1;
export const TCA_ACT_KIND = 1;
export const TCA_ACT_OPTIONS = 2;
/** The verdict ending the action chain with the packet taken away (a redirect). */
export const TC_ACT_STOLEN = 4;

// mirred action (linux/tc_act/tc_mirred.h)
export const TCA_MIRRED_PARMS = 2;
export const TCA_EGRESS_REDIR = 1;
export const TCA_EGRESS_MIRROR = 2;
export const TCA_INGRESS_REDIR = 3;
export const TCA_INGRESS_MIRROR = 4;
