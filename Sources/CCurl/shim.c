void CCurl_shim_anchor(void) {}
