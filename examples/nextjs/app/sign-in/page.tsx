import Link from "next/link";

import { SignInForm } from "./sign-in-form";

const NOTICES: Record<string, string> = {
  "signed-out": "You signed out.",
  "session-ended": "Your session has ended — it was signed out on another device. Please sign in again.",
};

export default async function SignInPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const { reason } = await searchParams;
  const notice = typeof reason === "string" ? NOTICES[reason] : undefined;
  return (
    <section className="card">
      <h1>Sign in</h1>
      {notice && (
        <p className="notice" role="status" data-reason={reason}>
          {notice}
        </p>
      )}
      <SignInForm />
      <p className="muted">
        New here? <Link href="/sign-up">Create an account</Link>
      </p>
    </section>
  );
}
