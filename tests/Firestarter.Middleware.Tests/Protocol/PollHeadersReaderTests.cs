using Firestarter.Matching;
using Firestarter.Protocol;
using Firestarter.Tests.TestSupport;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Firestarter.Tests.Protocol;

public class PollHeadersReaderTests
{
    private const string DeploymentHeader = "x-trigger-deployment-id";
    private const string VersionHeader = "x-trigger-deployment-version";
    private const string CpuHeader = "x-trigger-machine-cpu";
    private const string MemoryHeader = "x-trigger-machine-memory";

    private static HeaderDictionary ValidHeaders() => new()
    {
        [DeploymentHeader] = "deployment_abc",
        [VersionHeader] = "20240101.1",
        [CpuHeader] = "0.5",
        [MemoryHeader] = "1",
        ["x-trigger-workload-controller-id"] = "controller_1",
    };

    private static MatchKey ReadKey(IHeaderDictionary headers)
    {
        var problem = PollHeadersReader.TryRead(headers, out var poll);
        Assert.Null(problem);
        // A bare deployment id is the deployment itself (the poll handler resolves tokens before it keys the poll).
        return poll.KeyFor(poll.DeploymentId);
    }

    private static Problem Refuse(IHeaderDictionary headers)
    {
        var problem = PollHeadersReader.TryRead(headers, out var poll);
        Assert.NotNull(problem);
        Assert.Equal(StatusCodes.Status400BadRequest, problem.Status);
        Assert.Equal("bad-header", problem.Code);
        Assert.Equal(default, poll);
        return problem;
    }

    [Fact]
    public void All_four_headers_give_the_key()
    {
        Assert.Equal(new MatchKey("deployment_abc", "20240101.1", 0.5, 1), ReadKey(ValidHeaders()));
    }

    [Fact]
    public void Header_names_are_matched_case_insensitively()
    {
        var headers = new HeaderDictionary
        {
            ["X-Trigger-Deployment-Id"] = "deployment_abc",
            ["X-TRIGGER-DEPLOYMENT-VERSION"] = "20240101.1",
            ["X-Trigger-Machine-Cpu"] = "0.5",
            ["x-trigger-MACHINE-memory"] = "1",
        };

        Assert.Equal(new MatchKey("deployment_abc", "20240101.1", 0.5, 1), ReadKey(headers));
    }

    [Theory]
    [InlineData("1", "1")]
    [InlineData("1.0", "1.0")]
    [InlineData("1e0", "1E0")]
    [InlineData("1.000", "10e-1")]
    public void Sizes_are_compared_as_numbers(string cpu, string memory)
    {
        var headers = ValidHeaders();
        headers[CpuHeader] = cpu;
        headers[MemoryHeader] = memory;

        Assert.Equal(new MatchKey("deployment_abc", "20240101.1", 1, 1), ReadKey(headers));
    }

    [Fact]
    public void Values_other_than_sizes_are_taken_verbatim()
    {
        var headers = ValidHeaders();
        headers[DeploymentHeader] = "Deployment_ABC-é";
        headers[VersionHeader] = "v1.0";

        var key = ReadKey(headers);

        Assert.Equal("Deployment_ABC-é", key.Deployment);
        Assert.Equal("v1.0", key.Version);
    }

    [Theory]
    [InlineData(DeploymentHeader)]
    [InlineData(VersionHeader)]
    [InlineData(CpuHeader)]
    [InlineData(MemoryHeader)]
    public void A_missing_header_is_named_in_the_problem(string header)
    {
        var headers = ValidHeaders();
        headers.Remove(header);

        Assert.Equal($"Header '{header}' is required and must not be empty.", Refuse(headers).Detail);
    }

    [Theory]
    [InlineData(DeploymentHeader)]
    [InlineData(VersionHeader)]
    [InlineData(CpuHeader)]
    [InlineData(MemoryHeader)]
    public void An_empty_header_is_named_in_the_problem(string header)
    {
        var headers = ValidHeaders();
        headers[header] = "";

        Assert.Equal($"Header '{header}' is required and must not be empty.", Refuse(headers).Detail);
    }

    [Theory]
    [InlineData(DeploymentHeader)]
    [InlineData(VersionHeader)]
    [InlineData(CpuHeader)]
    [InlineData(MemoryHeader)]
    public void A_repeated_header_is_named_in_the_problem(string header)
    {
        var headers = ValidHeaders();
        headers.Append(header, headers[header].ToString());

        Assert.Equal(2, headers[header].Count);
        Assert.Equal($"Header '{header}' must appear once.", Refuse(headers).Detail);
    }

    [Fact]
    public void A_repeated_header_is_refused_even_when_one_value_is_empty()
    {
        var headers = ValidHeaders();
        headers[VersionHeader] = new StringValues(["", "20240101.1"]);

        Assert.Equal($"Header '{VersionHeader}' must appear once.", Refuse(headers).Detail);
    }

    [Fact]
    public void The_first_problem_in_header_order_is_reported()
    {
        var headers = new HeaderDictionary { [CpuHeader] = "x" };

        Assert.Equal($"Header '{DeploymentHeader}' is required and must not be empty.", Refuse(headers).Detail);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("-1")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("1e400")]
    [InlineData("0x1")]
    [InlineData("1,5")]
    [InlineData("1 cpu")]
    public void A_cpu_that_is_not_a_finite_non_negative_number_is_refused_and_echoed(string value)
    {
        var headers = ValidHeaders();
        headers[CpuHeader] = value;

        Assert.Equal($"Header '{CpuHeader}' must be a finite, non-negative number (was '{value}').", Refuse(headers).Detail);
    }

    [Theory]
    [InlineData("two")]
    [InlineData("-0.5")]
    [InlineData("-Infinity")]
    public void A_memory_that_is_not_a_finite_non_negative_number_is_refused_and_echoed(string value)
    {
        var headers = ValidHeaders();
        headers[MemoryHeader] = value;

        Assert.Equal($"Header '{MemoryHeader}' must be a finite, non-negative number (was '{value}').", Refuse(headers).Detail);
    }

    [Fact]
    public void A_long_bad_value_is_echoed_shortened()
    {
        var headers = ValidHeaders();
        var value = new string('x', 40) + "TAIL";
        headers[CpuHeader] = value;

        var detail = Refuse(headers).Detail;

        Assert.Equal($"Header '{CpuHeader}' must be a finite, non-negative number (was '{new string('x', 32)}…').", detail);
        Assert.DoesNotContain("TAIL", detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_token_in_the_deployment_header_is_read_as_sent()
    {
        var headers = ValidHeaders();
        var token = Tokens.ForDeployment("deployment_abc");
        headers[DeploymentHeader] = token;

        Assert.Null(PollHeadersReader.TryRead(headers, out var poll));

        // Who sent it is the poll handler's question (Security/DeploymentIdentityResolver), not the reader's.
        Assert.Equal(token, poll.DeploymentId);
    }
}
