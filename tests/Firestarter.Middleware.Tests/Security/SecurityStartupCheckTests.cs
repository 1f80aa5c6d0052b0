using System.Text.RegularExpressions;
using Firestarter.Security;
using Firestarter.Tests.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;

namespace Firestarter.Tests.Security;

public partial class SecurityStartupCheckTests
{
    [Fact]
    public async Task The_open_dispatch_warning_points_to_a_README_section_that_exists()
    {
        var dispatch = new DispatchAuthorization(
            Microsoft.Extensions.Options.Options.Create(new SecurityOptions()), NullLogger<DispatchAuthorization>.Instance);
        var logger = new ListLogger<SecurityStartupCheck>();

        await new SecurityStartupCheck(dispatch, logger).StartAsync(CancellationToken.None);

        var warning = Assert.Single(logger.Entries).Message;
        var anchor = ReadmeAnchor().Match(warning);
        Assert.True(anchor.Success, warning);
        var headings = File.ReadLines(FindReadme()).Where(line => line.StartsWith('#')).Select(Slug);
        Assert.Contains(anchor.Groups[1].Value, headings);
    }

    // GitHub's anchor for a heading: lower case, spaces to hyphens, punctuation other than hyphens dropped.
    private static string Slug(string heading) =>
        string.Concat(heading.TrimStart('#').Trim().ToLowerInvariant().Select(c => c == ' ' ? "-" : char.IsLetterOrDigit(c) || c is '-' or '_' ? c.ToString() : ""));

    private static string FindReadme()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var readme = Path.Combine(directory.FullName, "README.md");
            if (File.Exists(readme) && File.Exists(Path.Combine(directory.FullName, "Firestarter.sln")))
            {
                return readme;
            }
        }

        throw new FileNotFoundException("The repository's README.md was not found above the test's directory.");
    }

    [GeneratedRegex(@"README\.md#([a-z0-9_-]+)")]
    private static partial Regex ReadmeAnchor();
}
