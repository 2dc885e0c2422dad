// What the SPA does with the generated client types: CI type-checks this file under `tsc --strict` against the
// types openapi-typescript generates from /api/schema/. If the schema loses a field, an error response or a
// typed error detail the SPA relies on, this stops compiling and the schema gate fails.
import type { components, paths } from "./generated/coveris";

type Json<T> = T extends { content: { "application/json": infer B } } ? B : never;

type Login = paths["/api/auth/login/"]["post"];
type EmployeeList = paths["/api/employees/"]["get"];
type EmployeeTransition = paths["/api/employees/{id}/transitions/"]["post"];

type User = Json<Login["responses"][200]>;
type EmployeePage = Json<EmployeeList["responses"][200]>;
type EmployeeQuery = NonNullable<EmployeeList["parameters"]["query"]>;
type TransitionBody = Json<EmployeeTransition["requestBody"]>;
type TransitionDone = Json<EmployeeTransition["responses"][200]>;
type RuleViolation = Json<EmployeeTransition["responses"][422]>;
type TransitionConflict = Json<EmployeeTransition["responses"][409]>;
type ApiError = components["schemas"]["Error"];
type ErrorCode = components["schemas"]["ErrorCode"];

const API = "https://api.coveris.example";

class CoverisError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode | string,
    message: string,
  ) {
    super(message);
  }
}

async function fail(response: Response): Promise<never> {
  const body = (await response.json()) as ApiError;
  throw new CoverisError(response.status, body.error.code, body.error.message);
}

function headers(csrfToken?: string): HeadersInit {
  return csrfToken
    ? { "Content-Type": "application/json", "X-CSRFToken": csrfToken }
    : { "Content-Type": "application/json" };
}

/** Sign in: the API sets the HttpOnly cookies and answers the user. */
export async function signIn(email: string, password: string): Promise<User> {
  const body: Json<Login["requestBody"]> = { email, password };
  const response = await fetch(`${API}/api/auth/login/`, {
    method: "POST",
    credentials: "include",
    headers: headers(),
    body: JSON.stringify(body),
  });
  if (!response.ok) return fail(response);
  const user = (await response.json()) as User;
  const role: string | null | undefined = user.role;
  console.log(`signed in as ${user.email} (${role ?? "no role"})`);
  return user;
}

/** Active employees of an org unit's subtree whose name matches, hired this year, a page at a time. */
export async function listEmployees(orgUnit: number, page = 1): Promise<EmployeePage> {
  const query: EmployeeQuery = {
    state: ["active"],
    org_unit: orgUnit,
    search: "smith",
    hire_date_after: "2026-01-01",
    ordering: ["last_name"],
    page,
    page_size: 50,
  };
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined) params.set(key, Array.isArray(value) ? value.join(",") : String(value));
  }
  const response = await fetch(`${API}/api/employees/?${params}`, { credentials: "include" });
  if (response.status === 400) {
    const invalid = (await response.json()) as Json<EmployeeList["responses"][400]>;
    const messages: string[] = Object.entries(invalid.error.details).map(([field, problem]) => `${field}: ${problem}`);
    throw new CoverisError(400, invalid.error.code, messages.join("; "));
  }
  if (!response.ok) return fail(response);
  const employees = (await response.json()) as EmployeePage;
  for (const employee of employees.results) {
    console.log(employee.employee_number, employee.last_name, employee.state);
  }
  console.log(`page ${employees.page} of ${employees.total_pages}; next: ${employees.next ?? "none"}`);
  return employees;
}

/** Terminate an employee; when business rules refuse, show what to do about the first failing rule. */
export async function terminate(id: number, csrfToken: string): Promise<TransitionDone | string> {
  const body: TransitionBody = { transition: "terminate", reason: "End of contract", effective_date: "2026-12-31" };
  const response = await fetch(`${API}/api/employees/${id}/transitions/`, {
    method: "POST",
    credentials: "include",
    headers: headers(csrfToken),
    body: JSON.stringify(body),
  });
  if (response.status === 422) {
    const refused = (await response.json()) as RuleViolation;
    const code: "rule_violation" = refused.error.code;
    console.warn(code, refused.error.details.violations.length, "rule(s) failed");
    return refused.error.details.violations[0].remediation;
  }
  if (response.status === 409) {
    const conflict = (await response.json()) as TransitionConflict;
    return conflict.error.message;
  }
  if (!response.ok) return fail(response);
  return (await response.json()) as TransitionDone;
}
