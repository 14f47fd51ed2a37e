using System.CommandLine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RwePortal.Application;
using RwePortal.Application.Analyses;
using RwePortal.Application.Jobs;

namespace RwePortal.Cli.Commands;

/// <summary>
/// <c>rwe worker [--concurrency N]</c>: runs queued analysis runs outside the portal, until stopped (Ctrl-C puts an
/// unfinished run back in the queue). It connects as the portal does, as the app role (<c>RWE_CS_APP</c> or
/// <c>ConnectionStrings__App</c>) and the warehouse reader (<c>RWE_CS_READER</c> or <c>ConnectionStrings__Warehouse</c>),
/// never as the owner; each run works as its requester in its tenant. A portal beside it may set
/// <c>AnalysisWorker__Enabled=false</c> and still show progress live.
/// </summary>
internal static class WorkerCommand
{
    public static IEnumerable<Command> Create()
    {
        var command = new Command("worker", "Run queued analysis runs (the portal's durable queue) until stopped.");
        var concurrency = new Option<int>("--concurrency") { Description = "Runs at a time.", DefaultValueFactory = _ => 1 };
        command.Options.Add(concurrency);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var app = Read("RWE_CS_APP") ?? Read("ConnectionStrings__App");
            var reader = Read("RWE_CS_READER") ?? Read("ConnectionStrings__Warehouse");
            if (app is null || reader is null)
            {
                await Console.Error.WriteLineAsync(
                    "no database connection: set RWE_CS_APP and RWE_CS_READER (or ConnectionStrings__App and ConnectionStrings__Warehouse), e.g. eval \"$(./rwe db env)\"");
                return 2;
            }

            var builder = Host.CreateApplicationBuilder();
            builder.Services.AddApplication(app, reader);
            builder.Services.AddAnalysisRuns(options =>
            {
                builder.Configuration.GetSection(AnalysisWorkerOptions.Section).Bind(options);
                options.Enabled = true;
                options.Concurrency = Math.Max(1, parseResult.GetValue(concurrency));
            });
            using var host = builder.Build();
            using (var scope = host.Services.CreateScope())
            {
                if (scope.ServiceProvider.GetService<IProtocolRunPipeline>() is null)
                {
                    await Console.Error.WriteLineAsync("this build registers no analysis pipeline; nothing would run");
                    return 1;
                }
            }

            await Console.Out.WriteLineAsync($"worker: running queued analysis runs ({Math.Max(1, parseResult.GetValue(concurrency))} at a time); Ctrl-C stops");
            await host.RunAsync(cancellationToken);
            return 0;
        });
        yield return command;
    }

    private static string? Read(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value && !string.IsNullOrWhiteSpace(value) ? value : null;
}
