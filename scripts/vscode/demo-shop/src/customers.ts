import { newId } from './ids';
import { fail, ok, type Result } from './result';

export type Region = 'EU' | 'UK' | 'US';

export interface Customer {
  id: string;
  name: string;
  email: string;
  region: Region;
}

const customers = new Map<string, Customer>();

export function registerCustomer(name: string, email: string, region: Region): Result<Customer> {
  if (!email.includes('@')) return fail(`invalid email: ${email}`);
  const customer: Customer = { id: newId('cus'), name, email, region };
  customers.set(customer.id, customer);
  return ok(customer);
}

export function findCustomer(id: string): Result<Customer> {
  const customer = customers.get(id);
  return customer ? ok(customer) : fail(`no customer ${id}`);
}
