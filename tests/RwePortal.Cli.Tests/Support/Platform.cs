// The CLI's tests drive bash scripts, a private PostgreSQL cluster and /proc: Linux only, as the rwe script is.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
