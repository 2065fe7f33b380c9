export { findInPath } from "./find.ts";
export { delegateAdd, delegateCheck, delegateDel, delegateGc, delegateStatus, type DelegateTarget } from "./delegate.ts";
