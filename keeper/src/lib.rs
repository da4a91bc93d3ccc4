//! The host's keeper: turns finished inference results into EZKL proofs and lands them on-chain
//! in batched transactions (DESIGN.md, "Keeper rules").
