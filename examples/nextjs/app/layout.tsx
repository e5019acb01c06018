import type { Metadata } from "next";
import Link from "next/link";

import "./globals.css";

export const metadata: Metadata = {
  title: "Tasks — Next.js with Tessera",
  description: "Sign in with Tessera, keep tasks in a FastAPI backend",
};

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body>
        <header className="site-header">
          <Link href="/" className="brand">
            Tasks
          </Link>
          <span className="muted">Next.js · Tessera · FastAPI</span>
        </header>
        <main>{children}</main>
      </body>
    </html>
  );
}
