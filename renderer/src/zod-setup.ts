/**
 * Imported first by main.ts. The console's CSP forbids eval, so zod must not compile its
 * fast-path parsers with `new Function` (even its probe for that is reported as a CSP
 * violation): validate in interpreted mode.
 */
import { z } from 'zod';

z.config({ jitless: true });
