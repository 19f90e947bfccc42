import { describe, expect, it } from 'vitest';
import { tlsFromUrl } from '../../src/connector/create-source.js';

describe('tlsFromUrl', () => {
  it('takes TLS settings out of a MySQL URL, with libpq or MySQL names', () => {
    expect(tlsFromUrl('mysql://u:p@db:3306/shop?ssl-mode=VERIFY_IDENTITY&ssl-ca=/etc/ca.pem')).toEqual({
      url: 'mysql://u:p@db:3306/shop',
      tls: { mode: 'verify-full', caFile: '/etc/ca.pem' },
    });
    expect(tlsFromUrl('mysql://u:p@db/shop?sslmode=require')).toEqual({
      url: 'mysql://u:p@db/shop',
      tls: { mode: 'require' },
    });
  });

  it('leaves URLs without TLS settings alone and rejects unknown modes', () => {
    expect(tlsFromUrl('mysql://u:p@db/shop')).toEqual({ url: 'mysql://u:p@db/shop' });
    expect(() => tlsFromUrl('mysql://u:p@db/shop?sslmode=maybe')).toThrow(/unknown TLS mode "maybe"/);
  });
});
