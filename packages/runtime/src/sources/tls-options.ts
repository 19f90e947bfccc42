import { z } from 'zod';

/** TLS settings of a SQL connection (see SqlConnectionOptions' `tls`). */
export const tlsOptions = z.strictObject({
  mode: z.enum(['disable', 'require', 'verify-ca', 'verify-full']),
  /** PEM file paths. */
  caFile: z.string().min(1).optional(),
  certFile: z.string().min(1).optional(),
  keyFile: z.string().min(1).optional(),
});
