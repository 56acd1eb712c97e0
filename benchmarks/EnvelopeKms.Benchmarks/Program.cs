using BenchmarkDotNet.Running;
using EnvelopeKms.Benchmarks;

if (args is ["sqlite-scale", ..])
{
    SqliteScaleReport.Run();
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
