using BenchmarkDotNet.Running;

// Runs the benchmarks chosen on the command line, e.g.
//   dotnet run -c Release --project bench/Firestarter.Benchmarks -- --filter '*' --job short
// See bench/README.md. Building the solution (and CI's `dotnet test`) builds this project but never runs it.
BenchmarkSwitcher.FromAssembly(typeof(Firestarter.Benchmarks.Samples).Assembly).Run(args);
