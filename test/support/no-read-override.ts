/**
 * Root reads a chmod 000 file (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH). A test that needs a file
 * Upreel may not read runs the child through this prefix: still root, so it reaches the checkout
 * and its node_modules wherever they are (a clone under a 0700 temp folder included, which
 * `nobody` could not enter), but without those two capabilities, so file permissions apply.
 */
export const NO_READ_OVERRIDE = [
  'setpriv',
  '--inh-caps=-dac_override,-dac_read_search',
  '--bounding-set=-dac_override,-dac_read_search',
]
